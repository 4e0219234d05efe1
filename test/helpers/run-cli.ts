/**
 * Runs `anpr-audit` as a child process, asynchronously: the S3 servers the CLI talks to live in the
 * test process, whose event loop must keep running (a spawnSync would deadlock, see NOTES.md).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { resolve } from 'node:path';

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const BIN = resolve('bin/anpr-audit.js');

/** A CLI process started by {@link startCli}: signal it, and await its result. */
export interface RunningCli {
  child: ChildProcessWithoutNullStreams;
  /** Resolves on the first stderr output matching `pattern` (e.g. progress), with all of stderr so far. */
  stderrMatching(pattern: RegExp): Promise<string>;
  result: Promise<CliResult>;
}

/** Starts the CLI with `args`; `env` is the whole environment of the child (nothing is inherited but PATH/HOME). */
export function startCli(args: string[], env: NodeJS.ProcessEnv): RunningCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end();
  let stdout = '';
  let stderr = '';
  const waiting: Array<{ pattern: RegExp; resolve: (text: string) => void }> = [];
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString('utf8');
    for (const w of waiting.splice(0)) {
      if (w.pattern.test(stderr)) w.resolve(stderr);
      else waiting.push(w);
    }
  });
  const result = new Promise<CliResult>((done, fail) => {
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
  return {
    child,
    result,
    stderrMatching: (pattern) =>
      pattern.test(stderr)
        ? Promise.resolve(stderr)
        : new Promise((resolve) => waiting.push({ pattern, resolve })),
  };
}

/** Runs the CLI with `args` to its end; `env` as for {@link startCli}. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return startCli(args, env).result;
}
