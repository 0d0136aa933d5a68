// The command line was wrong (exit 2). Apart from context.ts so that main.ts can tell it without loading
// the config schema and the logger.
import { KafkalakeError } from '../lib/errors.js';

export class UsageError extends KafkalakeError {
  constructor(message: string) {
    super(message, { where: 'command line' });
    this.name = 'UsageError';
  }
}
