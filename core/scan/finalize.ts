/**
 * Closes a scan once every source has finished: `completed` only when every source was scanned
 * completely; otherwise `incomplete` with the reasons. A scan that could not read everything is
 * never reported as compliant.
 */
import type { ScanStatus } from '../model.js';
import type { ScanSourceResult } from '../queue/jobs.js';
import type { Store } from '../store/store.js';

export async function finalizeScan(
  store: Store,
  scanId: string,
  expectedSources: string[],
  results: ScanSourceResult[],
  failures: string[],
  at: Date,
): Promise<ScanStatus> {
  const scan = await store.getScan(scanId);
  if (scan === null) throw new Error(`scan ${scanId} does not exist`);
  if (scan.status !== 'running') return scan.status;
  const errors = [...failures];
  for (const sourceId of expectedSources) {
    const result = results.find((r) => r.sourceId === sourceId);
    if (!result) errors.push(`source ${sourceId}: no result (its job failed or was lost)`);
    else if (!result.complete) errors.push(`source ${sourceId}: scanned incompletely`);
  }
  for (const result of results) {
    for (const error of result.errors) errors.push(`${result.sourceId}: ${error}`);
    for (const note of result.notes) await store.addScanNote(scanId, `${result.sourceId}: ${note}`);
  }
  for (const error of errors.slice(0, 500)) await store.addScanError(scanId, error);
  const status: ScanStatus = errors.length === 0 ? 'completed' : 'incomplete';
  await store.finishScan(scanId, status, at);
  // Upkeep only: the scan's verdict stands whether or not it runs.
  await store
    .tidyAfterScan()
    .catch((error: unknown) =>
      store.addScanNote(scanId, `store upkeep after the scan failed: ${(error as Error).message}`),
    );
  return status;
}
