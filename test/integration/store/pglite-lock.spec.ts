/**
 * One process per PGlite data directory: a second opener is refused with the holder named, a dead
 * holder's lock is taken over, and closing the store gives the directory back.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
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
    expect(error.holder).to.deep.equal({ pid: process.pid, host: hostname() });
    expect(error.message).to.include(`in use by process ${process.pid}`).and.include('set DATABASE_URL');
    await first.release();
    const again = await lockDataDir(dataDir);
    await again.release();
  });

  it('takes over the lock of a process that is gone, not one on another host it cannot check', async () => {
    const dataDir = join(root, 'pgdata');
    await writeFile(lockPath(dataDir), JSON.stringify({ pid: await deadPid(), host: hostname() }));
    const taken = await lockDataDir(dataDir);
    expect(JSON.parse(await readFile(taken.path, 'utf8'))).to.include({ pid: process.pid });
    await taken.release();
    await writeFile(lockPath(dataDir), JSON.stringify({ pid: process.pid, host: 'other-host' }));
    expect((await refusal(lockDataDir(dataDir))).holder).to.deep.equal({
      pid: process.pid,
      host: 'other-host',
    });
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
