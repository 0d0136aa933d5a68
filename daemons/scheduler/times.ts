// Fire times of a cron expression, from cron-parser (node-cron gives only the next fire from now).
// Both read the same six-field syntax (seconds optional); the scheduler runs on UTC.
import { CronExpressionParser } from 'cron-parser';
import cron from 'node-cron';
import { KafkalakeError } from '../lib/errors.js';

export const TIMEZONE = 'UTC';

/** Throw a one-line error naming the job if node-cron would not take the expression. */
export function checkCron(expr: string, where: string): void {
  if (!cron.validate(expr)) throw new KafkalakeError(`"${expr}" is not a cron expression (node-cron syntax: [second] minute hour day month weekday)`, { where });
}

/** The first fire time strictly after `after`. */
export function nextFire(expr: string, after: Date): Date {
  return CronExpressionParser.parse(expr, { currentDate: after, tz: TIMEZONE }).next().toDate();
}

/**
 * Whether a fire was missed: the first fire after the last run's start is already in the past (by
 * more than `toleranceMs`, so a fire happening right now is left to node-cron). However many fires
 * were missed, the answer is one catch-up run.
 */
export function missedFire(expr: string, lastStart: Date, now: Date, toleranceMs = 1000): Date | undefined {
  const next = nextFire(expr, lastStart);
  return next.getTime() + toleranceMs < now.getTime() ? next : undefined;
}
