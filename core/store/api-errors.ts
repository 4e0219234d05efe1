/** Errors the store's API-facing methods throw on purpose (see errors.ts for the older ones). */
import type { FindingStatus } from '../model.js';

/**
 * A status change whose finding was no longer in one of the statuses it expected (another officer
 * decided first): a conflict for the caller to show, not a failure.
 */
export class FindingStatusConflictError extends Error {
  override readonly name = 'FindingStatusConflictError';

  constructor(
    readonly findingId: string,
    readonly current: FindingStatus,
    readonly expected: readonly FindingStatus[],
  ) {
    super(`finding ${findingId} is ${current}, not ${expected.join(' or ')}`);
  }
}
