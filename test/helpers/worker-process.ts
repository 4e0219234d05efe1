/**
 * `anpr-audit worker` as a real child process, for tests that share a scan between processes or
 * kill a worker mid-scan.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';

export interface WorkerProcess {
  child: ChildProcess;
  /** Everything the worker logged (pino JSON lines). */
  log(): string;
  /** Job ids this worker reported completed. */
  completedJobs(): string[];
  /** Resolves once the worker says it has started. */
  ready: Promise<void>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function startWorkerProcess(
  configPath: string,
  env: NodeJS.ProcessEnv,
  concurrency = 1,
): WorkerProcess {
  const child = spawn(
    process.execPath,
    [resolve('bin/anpr-audit.js'), 'worker', '--config', configPath, '--concurrency', String(concurrency)],
    {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((done, fail) => {
    markReady = done;
    child.once('exit', (code) => fail(new Error(`worker exited with ${code} before it started:\n${log}`)));
  });
  child.stderr!.on('data', (chunk: Buffer) => {
    log += chunk.toString('utf8');
    if (log.includes('scan worker started')) markReady();
  });
  const exited = new Promise<void>((done) => child.once('exit', () => done()));
  return {
    child,
    log: () => log,
    completedJobs: () =>
      log
        .split('\n')
        .filter((line) => line.includes('scan job completed'))
        .map((line) => (JSON.parse(line) as { jobId: string }).jobId),
    ready,
    async kill(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}
