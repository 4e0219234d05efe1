/**
 * When the storage refuses every read (a credential that may list but not read, a bucket policy
 * denying the auditor, a bucket whose objects were all archived), reading on through the bucket
 * would ask a million times to be refused. The gate lets a bucket job stop asking: after a run of
 * refusals it reads only a sample of the new or changed objects, enough to see when reads succeed
 * again. The others are judged from their listing alone, as a refused object is (its LastModified
 * still proves an age), and the gate's error keeps the bucket incomplete, never compliant.
 */

/** Refusals in a row, with no read succeeding between them, that close the gate. */
export const REFUSALS_TO_CLOSE = 20;

/** While closed, every `SAMPLE_EVERY`-th object is read (and the 1st, 2nd, 4th, ... 64th first). */
export const SAMPLE_EVERY = 100;

/** What a read of an object came to, as far as the gate cares. */
export type ReadOutcome = 'read' | 'refused' | 'other';

/** A change of the gate's state, for the job to report. */
export type GateChange = 'closed' | 'opened' | null;

/**
 * One bucket job's gate. Reads run concurrently: the gate counts outcomes in the order they end,
 * and a read that started before the gate closed and succeeds after it opens it again.
 */
export class RefusalGate {
  private inARow = 0;
  private closed = false;
  /** Objects offered since the gate closed, read or skipped. */
  private offered = 0;

  /**
   * Whether to read the next object that needs a read. While the gate is closed: the 1st, 2nd,
   * 4th, ... 64th object since it closed, then every SAMPLE_EVERY-th, so that a short run of
   * refused objects costs little and a long one about one read in SAMPLE_EVERY.
   */
  shouldRead(): boolean {
    if (!this.closed) return true;
    this.offered += 1;
    const n = this.offered;
    return (n <= 64 && (n & (n - 1)) === 0) || n % SAMPLE_EVERY === 0;
  }

  /** Counts a read's outcome; tells whether it closed or opened the gate. */
  record(outcome: ReadOutcome): GateChange {
    if (outcome === 'other') return null;
    if (outcome === 'read') {
      this.inARow = 0;
      if (!this.closed) return null;
      this.closed = false;
      return 'opened';
    }
    this.inARow += 1;
    if (this.closed || this.inARow < REFUSALS_TO_CLOSE) return null;
    this.closed = true;
    this.offered = 0;
    return 'closed';
  }
}

/** The error a bucket job reports when a run of refusals closed its gate at `key`. */
export function refusalRunMessage(bucket: string, key: string, readError: string | null): string {
  return (
    `the storage refused ${REFUSALS_TO_CLOSE} reads of ${bucket} in a row, the last of ${key} ` +
    `(${readError ?? 'refused'}): of the new or changed objects after it, one in ${SAMPLE_EVERY} is read ` +
    `until one is served, and the others are judged from their listing alone; check the auditor's ` +
    `credentials, the bucket's policy and whether its objects were archived`
  );
}

/**
 * The error for objects not asked for on a page settled before the page whose read closed the gate.
 * A guard: reads start in page order, so the closing page settles first (see bucket-scan.ts).
 */
export function notAskedMessage(bucket: string, notAsked: number): string {
  return (
    `${notAsked} new or changed object(s) of ${bucket} were not read: the storage refused ` +
    `${REFUSALS_TO_CLOSE} reads in a row, and the others are judged from their listing alone`
  );
}
