/**
 * What the benchmark must undo however it ends: child processes (killed synchronously on exit),
 * and asynchronous clean-ups (PostgreSQL schemas, Redis keys, servers, temp dirs) run in reverse
 * order on normal completion, on an error, and on SIGINT/SIGTERM.
 */
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';

type Task = { name: string; run: () => Promise<void> | void };

const tasks: Task[] = [];
const children = new Set<ChildProcess>();
const directories = new Set<string>();
let running: Promise<void> | null = null;

/** Registers an async clean-up; returns a function that runs it now and unregisters it. */
export function onCleanup(name: string, run: () => Promise<void> | void): () => Promise<void> {
  const task: Task = { name, run };
  tasks.push(task);
  return async () => {
    const at = tasks.indexOf(task);
    if (at < 0) return;
    tasks.splice(at, 1);
    await task.run();
  };
}

/** A child to SIGKILL if the benchmark exits while it runs. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** A directory to remove on exit, even on a crash. */
export function trackDirectory(path: string): void {
  directories.add(path);
}

function killChildren(): void {
  for (const child of children) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  children.clear();
}

function removeDirectories(): void {
  for (const dir of [...directories]) {
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      directories.delete(dir);
    } catch (error) {
      process.stderr.write(`cleanup: cannot remove ${dir}: ${(error as Error).message}\n`);
    }
  }
}

/** Runs every clean-up, newest first; a failing one is reported and the others still run. */
export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    killChildren();
    while (tasks.length > 0) {
      const task = tasks.pop()!;
      try {
        await task.run();
      } catch (error) {
        process.stderr.write(`cleanup ${task.name} failed: ${(error as Error).message}\n`);
      }
    }
    removeDirectories();
  })();
  return running;
}

/** Installs the exit and signal handlers. */
export function installCleanupHandlers(): void {
  process.once('exit', () => {
    killChildren();
    removeDirectories();
  });
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // `on`, not `once`: a second signal (a second Ctrl-C, or tsx relaying the first one again) must
    // not kill the process halfway through its clean-up.
    process.on(signal, () => {
      if (stopping) {
        process.stderr.write(`${signal}: still cleaning up\n`);
        return;
      }
      stopping = true;
      process.stderr.write(`\n${signal}: cleaning up\n`);
      const force = setTimeout(() => process.exit(130), 60_000);
      force.unref();
      void cleanupAll().finally(() => process.exit(130));
    });
  }
}
