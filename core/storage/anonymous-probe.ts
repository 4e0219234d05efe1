/**
 * Non-destructive unsigned requests that tell whether a bucket or its objects are public:
 * a listing with max-keys 1, and the first 16 bytes of one object. Nothing is written.
 */
import type { AnonymousProbe } from '../rules/rule.js';

const PROBE_TIMEOUT_MS = 10_000;

function objectPath(bucket: string, key: string): string {
  return `/${encodeURIComponent(bucket)}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

async function probe(url: URL, request: string, headers: Record<string, string>): Promise<AnonymousProbe> {
  try {
    const response = await fetch(url, {
      headers,
      signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
      redirect: 'manual',
    });
    // Read at most a little: we only want to know whether data was served.
    await response.body?.cancel();
    return { request, status: response.status, allowed: response.status === 200 || response.status === 206 };
  } catch (error) {
    return { request: `${request} (failed: ${(error as Error).message})`, status: 0, allowed: false };
  }
}

/**
 * Probes a bucket without credentials.
 * @param sampleKey an object to try reading, when the bucket has one.
 */
export async function probeAnonymousAccess(
  endpoint: string,
  bucket: string,
  sampleKey?: string,
): Promise<AnonymousProbe[]> {
  const base = new URL(endpoint);
  const listPath = `/${encodeURIComponent(bucket)}?list-type=2&max-keys=1`;
  const probes = [await probe(new URL(listPath, base), `GET ${listPath}`, {})];
  if (sampleKey !== undefined) {
    const path = objectPath(bucket, sampleKey);
    probes.push(await probe(new URL(path, base), `GET ${path} (Range: bytes=0-15)`, { Range: 'bytes=0-15' }));
  }
  return probes;
}
