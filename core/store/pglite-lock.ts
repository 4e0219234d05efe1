/**
 * One process per PGlite data directory. PGlite is PostgreSQL in this process's memory, writing its
 * files as it goes; a second process opening the same directory writes over the first's files, and
 * the store no longer opens (all findings and the audit trail lost). PGlite leaves no lock of its
 * own (its postmaster.pid holds a fake pid), so this one does, as PostgreSQL's postmaster.pid does:
 * a file beside the directory naming the process, its host and when that host booted.
 *
 * - The file appears whole or not at all (written aside, then hard-linked into place).
 * - A lock whose process is gone is taken over: same host and no such pid; or a host that has booted
 *   since; or this very pid when this process does not hold it (a restarted container keeps its
 *   hostname and pid). Nothing expires with time, so a host that sleeps keeps its lock.
 * - Taking a stale lock over happens under a second lock file, so two processes starting at once
 *   cannot both remove it and both take it.
 */
import { randomUUID } from 'node:crypto';
import { link, open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname, uptime } from 'node:os';
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
  /** When the host booted, in whole seconds since the epoch: a pid means nothing across boots. */
  boot: number;
}

/** Lock files this process holds: its own pid in a lock it does not hold is a previous life's. */
const held = new Set<string>();

/** Boot times read a little apart differ by rounding and clock steps, not by minutes. */
const SAME_BOOT_SECONDS = 60;
/** A takeover that takes longer than this was cut short by its process dying. */
const TAKEOVER_STALE_MS = 30_000;
/** How long to wait for another process's takeover before calling the store in use. */
const TAKEOVER_WAIT_MS = 3_000;
/** A lock file nobody can read (written by hand, a full disk) counts as held until it is this old. */
const UNREADABLE_STALE_MS = 10_000;

function me(): Holder {
  return { pid: process.pid, host: hostname(), boot: Math.round(Date.now() / 1000 - uptime()) };
}

function parseHolder(text: string): Holder | null {
  try {
    const value = JSON.parse(text) as Partial<Holder>;
    return typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.boot === 'number'
      ? { pid: value.pid, host: value.host, boot: value.boot }
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

type Reading = { state: 'free' } | { state: 'stale'; text: string } | { state: 'held'; holder: Holder };

/** What the lock file at `path` says now. */
async function readLock(path: string): Promise<Reading> {
  let text: string;
  let mtimeMs: number;
  try {
    [text, { mtimeMs }] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: 'free' };
    throw error;
  }
  const holder = parseHolder(text);
  const mine = me();
  if (!holder) {
    return Date.now() - mtimeMs > UNREADABLE_STALE_MS
      ? { state: 'stale', text }
      : { state: 'held', holder: { pid: 0, host: 'unknown', boot: 0 } };
  }
  // Another host's processes cannot be checked from here: its lock is removed by hand once dead.
  if (holder.host !== mine.host) return { state: 'held', holder };
  const stale =
    Math.abs(holder.boot - mine.boot) > SAME_BOOT_SECONDS ||
    (holder.pid === mine.pid ? !held.has(path) : !isAlive(holder.pid));
  return stale ? { state: 'stale', text } : { state: 'held', holder };
}

/** Runs `fn` holding the takeover lock of `path`, or returns false when another process holds it. */
async function underTakeover(path: string, fn: () => Promise<void>): Promise<boolean> {
  const guard = `${path}.takeover`;
  try {
    await (await open(guard, 'wx')).close();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const age = await stat(guard).then(
      (s) => Date.now() - s.mtimeMs,
      () => 0,
    );
    // A takeover whose process died in it: clear it for the next try.
    if (age > TAKEOVER_STALE_MS) await unlink(guard).catch(() => undefined);
    return false;
  }
  try {
    await fn();
    return true;
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

/**
 * Takes the lock of `dataDir` for this process.
 * @throws StoreInUseError when a live process holds it (or a process on another host: its liveness
 *   cannot be checked from here, so the lock file has to be removed by hand once it is known dead).
 */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = lockPath(dataDir);
  const mine = me();
  // Written aside, then linked into place: the lock never exists half-written.
  const aside = `${path}.${process.pid}.${randomUUID()}`;
  const file = await open(aside, 'wx');
  try {
    await file.writeFile(`${JSON.stringify({ ...mine, since: new Date().toISOString() })}\n`);
  } finally {
    await file.close();
  }
  const take = async (): Promise<boolean> => {
    try {
      await link(aside, path);
      held.add(path);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
  };
  try {
    const deadline = Date.now() + TAKEOVER_WAIT_MS;
    for (;;) {
      if (await take()) return { path, release: () => release(path, mine) };
      const reading = await readLock(path);
      if (reading.state === 'held') throw new StoreInUseError(dataDir, reading.holder);
      if (reading.state === 'stale') {
        let taken = false;
        const ran = await underTakeover(path, async () => {
          // Read again under the guard: another process may have taken it over just before.
          const again = await readFile(path, 'utf8').catch(() => null);
          if (again === reading.text) await unlink(path);
          taken = await take();
        });
        if (taken) return { path, release: () => release(path, mine) };
        if (ran) continue;
      }
      if (Date.now() > deadline) {
        const now = await readLock(path);
        throw new StoreInUseError(dataDir, now.state === 'held' ? now.holder : { pid: 0, host: 'unknown' });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    await unlink(aside).catch(() => undefined);
  }
}

async function release(path: string, mine: Holder): Promise<void> {
  held.delete(path);
  const holder = parseHolder(await readFile(path, 'utf8').catch(() => ''));
  if (holder && holder.pid === mine.pid && holder.host === mine.host)
    await unlink(path).catch(() => undefined);
}
