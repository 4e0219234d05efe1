/** Errors the store throws on purpose, so callers can tell a bad request from a broken database. */

/** A scan id that no scan row has. */
export class ScanNotFoundError extends Error {
  override readonly name = 'ScanNotFoundError';

  constructor(readonly scanId: string) {
    super(`scan ${scanId} not found`);
  }
}

/**
 * A `listFindings` cursor that is not one this store issued, or was issued for another sort or order
 * (a client error: the API should answer 400).
 */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';

  constructor(reason: string) {
    super(`invalid cursor: ${reason}`);
  }
}
