// The table of subcommands. Each lives in its own module; add a line here to add one.
import type { Command } from './context.js';
import { bootstrap } from './bootstrap.js';
import { config } from './config.js';
import { consume } from './consume.js';
import { consumer } from './consumer.js';
import { dlq } from './dlq.js';
import { produce } from './produce.js';
import { query } from './query.js';
import { producer } from './producer.js';
import { run } from './run.js';
import { scheduler } from './scheduler.js';
import { stack } from './stack.js';
import { status } from './status.js';
import { up } from './up.js';

export const COMMANDS: Command[] = [up, stack, config, producer, produce, consumer, consume, dlq, run, query, scheduler, status, bootstrap];
