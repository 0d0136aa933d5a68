// The table of subcommands. Each lives in its own module; add a line here to add one.
import type { Command } from './context.js';
import { stack } from './stack.js';
import { up } from './up.js';

export const COMMANDS: Command[] = [up, stack];
