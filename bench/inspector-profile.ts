/**
 * CPU profiles around one measurement, through node:inspector: `--cpu-prof` on the command line would
 * profile a process's whole life (uploads, image rendering), where the question is what the bare
 * client, the in-process scan and the S3 server serving them spend their time on.
 */
import { Session } from 'node:inspector/promises';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** A running V8 CPU profile of this process. */
export interface RunningProfile {
  /** Stops the profile and writes it to `path` (a .cpuprofile for bench/cpu-profile.ts or DevTools). */
  stop(path: string): Promise<void>;
}

/** Starts the V8 CPU profiler in this process. */
export async function startProfile(): Promise<RunningProfile> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
  } catch (error) {
    session.disconnect();
    throw error;
  }
  return {
    async stop(path) {
      try {
        const { profile } = await session.post('Profiler.stop');
        await writeFile(path, JSON.stringify(profile));
      } finally {
        session.disconnect();
      }
    },
  };
}

/** A process that can be profiled from here (the S3 child process, over its IPC channel). */
export interface ProfiledPeer {
  startProfile(): Promise<void>;
  stopProfile(path: string): Promise<void>;
}

/**
 * Runs `work` under the V8 CPU profiler and writes `<dir>/<name>.cpuprofile`, and with `peer` that
 * process's profile over the same time as `<dir>/<name>-s3.cpuprofile`. With `dir` null it only
 * runs `work`.
 */
export async function profiled<T>(
  dir: string | null,
  name: string,
  work: () => Promise<T>,
  peer?: ProfiledPeer,
): Promise<T> {
  if (dir === null) return work();
  await peer?.startProfile();
  let own: RunningProfile | null = null;
  try {
    own = await startProfile();
    const result = await work();
    await own.stop(join(dir, `${name}.cpuprofile`));
    own = null;
    return result;
  } finally {
    // After a failure neither profiler is left running; this process's profile is kept as -failed.
    await own?.stop(join(dir, `${name}-failed.cpuprofile`)).catch(() => undefined);
    await peer?.stopProfile(join(dir, `${name}-s3.cpuprofile`));
  }
}
