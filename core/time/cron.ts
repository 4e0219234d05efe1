/**
 * Cron expressions of source schedules, checked with the parser BullMQ's job schedulers use
 * (cron-parser), so that a pattern the config accepts is one the scheduler can run.
 */
import { CronExpressionParser } from 'cron-parser';

/**
 * Why `pattern` is not a cron expression BullMQ can schedule (5 fields, or 6 with seconds first,
 * or an alias such as `@daily`), or null when it is one.
 */
export function cronPatternProblem(pattern: string): string | null {
  try {
    CronExpressionParser.parse(pattern);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
