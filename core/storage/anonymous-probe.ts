/**
 * Non-destructive unsigned requests that tell whether a bucket or its objects are public:
 * a listing with max-keys 1, and the first 16 bytes of one object. Nothing is written.
 */
import pRetry, { AbortError } from 'p-retry';
import type { AnonymousProbe } from '../rules/rule.js';
import { awaitPace, type RequestPace } from './s3-storage.js';

const PROBE_TIMEOUT_MS = 10_000;
/** Tries after the first while the answer is inconclusive ({@link probeInconclusive}), not timed out. */
const PROBE_RETRIES = 2;

function objectPath(bucket: string, key: string): string {
  return `/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/**
 * Whether a probe's answer says nothing about access: no answer (network error, time-out), or
 * throttling or a server error instead of a decision. A 403 or a 404 is a decision.
 */
export function probeInconclusive(probe: AnonymousProbe): boolean {
  return probe.status === 0 || probe.status === 429 || probe.status >= 500;
}

async function probeOnce(
  url: URL,
  request: string,
  headers: Record<string, string>,
): Promise<{ probe: AnonymousProbe; timedOut: boolean }> {
  try {
    const response = await fetch(url, {
      headers,
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      redirect: 'manual',
    });
    // Read at most a little: we only want to know whether data was served.
    await response.body?.cancel();
    const allowed = response.status === 200 || response.status === 206;
    return { probe: { request, status: response.status, allowed }, timedOut: false };
  } catch (error) {
    return {
      probe: { request: `${request} (failed: ${(error as Error).message})`, status: 0, allowed: false },
      timedOut: (error as Error).name === 'TimeoutError',
    };
  }
}

/**
 * One probe, tried again while its answers are inconclusive, except after a time-out (another try
 * would cost as long again); the last answer when they stay so.
 */
async function probe(
  url: URL,
  request: string,
  headers: Record<string, string>,
  pace: RequestPace | null,
): Promise<AnonymousProbe> {
  let last: AnonymousProbe | undefined;
  try {
    return await pRetry(
      async () => {
        if (pace) await awaitPace(pace);
        const answer = await probeOnce(url, request, headers);
        last = answer.probe;
        if (answer.timedOut) throw new AbortError(`timed out after ${PROBE_TIMEOUT_MS} ms`);
        if (probeInconclusive(last)) throw new Error(`inconclusive: ${last.status}`);
        return last;
      },
      { retries: PROBE_RETRIES, minTimeout: 200, maxTimeout: 1000, randomize: true },
    );
  } catch (error) {
    // No answer at all when the pace failed before the first try: inconclusive, as a failed request.
    return (
      last ?? { request: `${request} (not sent: ${(error as Error).message})`, status: 0, allowed: false }
    );
  }
}

/**
 * Probes a bucket without credentials.
 * @param sample an object to try reading, when the bucket has one: its first 16 bytes, or all of
 *   it when it has none (a range of an empty object is answered 416, public or not).
 * @param pace awaited before every request, tries again included (the source's request rate).
 */
export async function probeAnonymousAccess(
  endpoint: string,
  bucket: string,
  sample?: { key: string; size: number },
  pace: RequestPace | null = null,
): Promise<AnonymousProbe[]> {
  const base = new URL(endpoint);
  const listPath = `/${encodeURIComponent(bucket)}?list-type=2&max-keys=1`;
  const probes = [await probe(new URL(listPath, base), `GET ${listPath}`, {}, pace)];
  if (sample !== undefined) {
    const path = objectPath(bucket, sample.key);
    const url = new URL(path, base);
    if (sample.size > 0) {
      probes.push(await probe(url, `GET ${path} (Range: bytes=0-15)`, { Range: 'bytes=0-15' }, pace));
    } else {
      probes.push(await probe(url, `GET ${path}`, {}, pace));
    }
  }
  return probes;
}
