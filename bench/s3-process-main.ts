/**
 * Child-process entry of bench/s3-process.ts: `node --import tsx bench/s3-process-main.ts <directory>`
 * with an IPC channel. Starts the S3 stack (s3rver behind the counting gateway) on `directory`, sends
 * `{ type: 'ready', url, port, upstreamPort, accessKey, secretKey, region }`, then answers each request
 * `{ id, op }` (S3ProcessRequest) with `{ id, result }` or `{ id, error }`. After `close` it exits 0;
 * it also exits when the parent goes away (the IPC channel closes), so it never outlives the benchmark.
 */
import { performance } from 'node:perf_hooks';
import { startS3Stack } from '../fixtures/s3-server.js';
import { startProfile, type RunningProfile } from './inspector-profile.js';
import type { S3ProcessMessage, S3ProcessOp, S3ProcessOps, S3ProcessRequest } from './s3-process.js';

const directory = process.argv[2];
if (!directory || !process.send) {
  process.stderr.write('usage: fork bench/s3-process-main.ts <directory> with an IPC channel\n');
  process.exit(2);
}

// The parent's clean-up decides when the server stops (a Ctrl-C reaches the whole process group, and
// a scan still running must not see its S3 vanish before the benchmark has finished cleaning up); if
// the parent dies instead, the disconnect below ends this process.
process.on('SIGINT', () => undefined);
process.on('disconnect', () => process.exit(0));

const stack = await startS3Stack({ directory });

function send(message: S3ProcessMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected) resolve();
    // The callback fires once the message is handed to the channel: only then is it safe to exit.
    else process.send!(message, undefined, {}, () => resolve());
  });
}

let closing = false;
let profile: RunningProfile | null = null;

async function answer(op: S3ProcessOp, path: string | undefined): Promise<S3ProcessOps[S3ProcessOp]> {
  switch (op) {
    case 'counts':
      return stack.gateway.counts();
    case 'reset-counts':
      stack.gateway.resetCounts();
      return null;
    case 'load': {
      const used = process.cpuUsage();
      const loop = performance.eventLoopUtilization();
      return {
        cpuSeconds: (used.user + used.system) / 1e6,
        eventLoopActiveMs: loop.active,
        eventLoopIdleMs: loop.idle,
      };
    }
    case 'profile-start':
      if (profile) throw new Error('a profile is already running');
      profile = await startProfile();
      return null;
    case 'profile-stop': {
      if (!profile) throw new Error('no profile is running');
      if (!path) throw new Error('profile-stop needs a path');
      const running = profile;
      profile = null;
      await running.stop(path);
      return null;
    }
    case 'close':
      closing = true;
      await stack.close();
      return null;
    default:
      throw new Error(`unknown op ${String(op)}`);
  }
}

process.on('message', (message: unknown) => {
  const { id, op, path } = message as S3ProcessRequest;
  void answer(op, path).then(
    async (result) => {
      await send({ id, result });
      if (op === 'close') process.exit(0);
    },
    async (error: unknown) => {
      await send({ id, error: (error as Error).message });
      if (closing) process.exit(1);
    },
  );
});

await send({
  type: 'ready',
  url: stack.url,
  port: stack.port,
  upstreamPort: stack.upstreamPort,
  accessKey: stack.accessKey,
  secretKey: stack.secretKey,
  region: stack.region,
});
