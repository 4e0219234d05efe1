/**
 * One process per PGlite data directory. PGlite is PostgreSQL in this process's memory, writing its
 * files as it goes; a second process opening the same directory writes over the first's files, and
 * the store no longer opens (all findings and the audit trail lost). PGlite leaves no lock of its
 * own (its postmaster.pid holds a fake pid), so this one does, as PostgreSQL's postmaster.pid does:
 * a file beside the directory naming the process and its host. A lock whose process is gone (same
 * host, no such pid) is taken over, so a crash needs no clean-up by hand; nothing expires with time,
 * so a host that sleeps does not lose its lock.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { StartupError } from '../startup-errors.js';

/** The data directory is in use by another live process. */
export class StoreInUseError extends StartupError {
  constructor(
    readonly dataDir: string,
    readonly holder: { pid: number; host: string },
  ) {
    super(
      `the embedded store ${dataDir} is in use by process ${holder.pid} on ${holder.host} ` +
        `(lock ${lockPath(dataDir)}): PGlite serves one process; stop that one, or set DATABASE_URL ` +
        'so that several processes share PostgreSQL',
    );
    this.name = 'StoreInUseError';
  }
}

/** A held lock; `release` removes it if it is still this process's. */
export interface DataDirLock {
  readonly path: string;
  release(): Promise<void>;
}

/** Where the lock of `dataDir` lives: beside it, since PGlite creates the directory itself. */
export function lockPath(dataDir: string): string {
  return `${dataDir.replace(/\/+$/, '')}.lock`;
}

interface Holder {
  pid: number;
  host: string;
}

function parseHolder(text: string): Holder | null {
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    return typeof value.pid === 'number' && typeof value.host === 'string'
      ? { pid: value.pid, host: value.host }
      : null;
  } catch {
    return null;
  }
}

/** Whether process `pid` runs on this host (EPERM: it runs, as another user). */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock of `dataDir` for this process.
 * @throws StoreInUseError when a live process holds it (or a process on another host: its liveness
 *   cannot be checked from here, so the lock file has to be removed by hand once it is known dead).
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = lockPath(dataDir);
  const mine: Holder = { pid: process.pid, host: hostname() };
  const content = `${JSON.stringify({ ...mine, since: new Date().toISOString() })}\n`;
  // Two tries: the second after removing a dead process's lock (another process may win that race).
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx');
      try {
        await file.writeFile(content);
      } finally {
        await file.close();
      }
      return { path, release: () => releaseIfMine(path, mine) };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = parseHolder(await readFile(path, 'utf8').catch(() => ''));
    // A lock file without a readable holder is one being written right now: treat it as held.
    if (!holder) throw new StoreInUseError(dataDir, { pid: 0, host: 'unknown' });
    if (holder.host !== mine.host || isAlive(holder.pid)) throw new StoreInUseError(dataDir, holder);
    await unlink(path).catch(() => undefined);
  }
  throw new StoreInUseError(dataDir, { pid: 0, host: 'unknown' });
}

async function releaseIfMine(path: string, mine: Holder): Promise<void> {
  const holder = parseHolder(await readFile(path, 'utf8').catch(() => ''));
  if (holder && holder.pid === mine.pid && holder.host === mine.host)
    await unlink(path).catch(() => undefined);
}
