/**
 * One process per PGlite data directory: a second opener is refused with the holder named, a dead
 * holder's lock is taken over, and closing the store gives the directory back.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir, uptime } from 'node:os';
import { join, resolve as resolvePath } from 'node:path';
import { expect } from 'chai';
import { openStore } from '../../../core/store/open-store.js';
import { lockDataDir, lockPath, StoreInUseError } from '../../../core/store/pglite-lock.js';

/** The pid of a process that has ended. */
function deadPid(): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', '']);
    child.on('error', reject);
    child.on('exit', () => resolve(child.pid!));
  });
}

/** Runs a lock contender in its own process (test/helpers/lock-contender.ts): `won` or `refused`. */
function contend(dataDir: string, startAt: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', resolvePath('test/helpers/lock-contender.ts'), dataDir, String(startAt)],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out.trim()) : reject(new Error(`contender exited ${code}`)),
    );
  });
}

async function refusal(promise: Promise<unknown>): Promise<StoreInUseError> {
  try {
    await promise;
  } catch (error) {
    expect(error).to.be.instanceOf(StoreInUseError);
    return error as StoreInUseError;
  }
  throw new Error('expected a StoreInUseError');
}

describe('PGlite data directory lock', function () {
  this.timeout(60_000);
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(join(tmpdir(), 'pglite-lock-'));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('refuses a second holder, naming the first, until the first releases', async () => {
    const dataDir = join(root, 'pgdata');
    const first = await lockDataDir(dataDir);
    const error = await refusal(lockDataDir(dataDir));
    expect(error.holder).to.deep.include({ pid: process.pid, host: hostname() });
    expect(error.message).to.include(`in use by process ${process.pid}`).and.include('set DATABASE_URL');
    await first.release();
    const again = await lockDataDir(dataDir);
    await again.release();
  });

  it('takes over the lock of a process that is gone, of an earlier boot, or of this pid in a past life', async () => {
    const dataDir = join(root, 'pgdata');
    const boot = Math.round(Date.now() / 1000 - uptime());
    const stale = [
      { pid: await deadPid(), host: hostname(), boot },
      // A live pid, but the host has booted since the lock was written.
      { pid: process.ppid, host: hostname(), boot: boot - 86_400 },
      // This very pid, in a lock this process does not hold: a restarted container's.
      { pid: process.pid, host: hostname(), boot },
    ];
    for (const holder of stale) {
      await writeFile(lockPath(dataDir), JSON.stringify(holder));
      const taken = await lockDataDir(dataDir);
      expect(JSON.parse(await readFile(taken.path, 'utf8'))).to.include({ pid: process.pid });
      await taken.release();
    }
    // Nothing is left beside the directory: no lock, no file written aside, no takeover guard.
    expect(await readdir(root)).to.deep.equal([]);
  });

  it('refuses a live process, one on another host, and a lock nobody can read until it is old', async () => {
    const dataDir = join(root, 'pgdata');
    const boot = Math.round(Date.now() / 1000 - uptime());
    await writeFile(lockPath(dataDir), JSON.stringify({ pid: process.ppid, host: hostname(), boot }));
    expect((await refusal(lockDataDir(dataDir))).holder).to.deep.include({ pid: process.ppid });
    await writeFile(lockPath(dataDir), JSON.stringify({ pid: await deadPid(), host: 'other-host', boot }));
    expect((await refusal(lockDataDir(dataDir))).holder).to.deep.include({ host: 'other-host' });
    await writeFile(lockPath(dataDir), '');
    expect((await refusal(lockDataDir(dataDir))).holder).to.deep.include({ host: 'unknown' });
    const old = new Date(Date.now() - 60_000);
    await utimes(lockPath(dataDir), old, old);
    const taken = await lockDataDir(dataDir);
    await taken.release();
  });

  it('lets exactly one of several processes starting at once take over a stale lock', async function () {
    this.timeout(120_000);
    const dataDir = join(root, 'pgdata');
    for (let trial = 0; trial < 3; trial++) {
      const boot = Math.round(Date.now() / 1000 - uptime());
      await writeFile(lockPath(dataDir), JSON.stringify({ pid: await deadPid(), host: hostname(), boot }));
      const startAt = Date.now() + 4000;
      const outcomes = await Promise.all(Array.from({ length: 6 }, () => contend(dataDir, startAt)));
      expect(outcomes.sort(), `trial ${trial}`).to.deep.equal([...Array<string>(5).fill('refused'), 'won']);
    }
  });

  it('keeps a second store off an open one, which goes on working, and frees the directory on close', async () => {
    const dataDir = join(root, 'pgdata');
    const store = await openStore({ dataDir });
    try {
      await refusal(openStore({ dataDir }));
      await store.ping();
    } finally {
      await store.close();
    }
    const reopened = await openStore({ dataDir });
    await reopened.close();
    // Released on close: nothing is left beside the directory.
    expect(existsSync(lockPath(dataDir))).to.equal(false);
  });
});
