/**
 * CPU profiles of this (the benchmark's) process around one measurement, through node:inspector:
 * `--cpu-prof` on the command line would profile the whole run (uploads, image rendering), where
 * the question is what the bare client and the in-process scan spend their time on.
 */
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Runs `work` under the V8 CPU profiler and writes `<dir>/<name>.cpuprofile` (readable by
 * bench/cpu-profile.ts and Chrome DevTools). With `dir` null it only runs `work`.
 */
export async function profiled<T>(dir: string | null, name: string, work: () => Promise<T>): Promise<T> {
  if (dir === null) return work();
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    const result = await work();
    const { profile } = await session.post('Profiler.stop');
    await writeFile(join(dir, `${name}.cpuprofile`), JSON.stringify(profile));
    return result;
  } finally {
    session.disconnect();
  }
}
