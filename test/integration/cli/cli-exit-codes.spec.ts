/**
 * The CLI's contract: exit 0 complete and clean, 1 complete with findings, 2 usage or config error
 * (before anything starts), 3 incomplete. Runs the real binary against real S3 servers, real Redis
 * and the embedded PGlite store (DATABASE_URL unset).
 */
import { expect } from 'chai';
import { createHash, randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { generateCameraImage, toExifTime } from '../../../fixtures/camera-image.js';
import { startS3Stack, type S3Stack } from '../../../fixtures/s3-server.js';
import { s3Sink } from '../../../fixtures/s3-sink.js';
import { openStore } from '../../../core/store/open-store.js';
import { parseConfig } from '../../../config/load.js';
import { runCli, startCli } from '../../helpers/run-cli.js';
import { startRandwyckWorld, WORLD_ENV, type RandwyckWorld } from '../../helpers/randwyck-world.js';

describe('anpr-audit CLI exit codes', function () {
  this.timeout(120_000);
  let world: RandwyckWorld;
  let fresh: S3Stack;
  let dir: string;
  const prefix = `test-cli-${randomUUID()}`;

  const freshConfig = (buckets: string) => `
sources:
  - id: edge-fresh
    role: edge
    endpoint: ${fresh.url}
    accessKeyEnv: EDGE_ACCESS_KEY
    secretKeyEnv: EDGE_SECRET_KEY
    buckets: [${buckets}]
redis: { prefix: ${prefix} }
database: { dataDir: ${join(dir, 'pglite')} }
`;

  before(async () => {
    world = await startRandwyckWorld();
    dir = await mkdtemp(join(tmpdir(), 'anpr-cli-'));
    fresh = await startS3Stack({ directory: join(dir, 's3') });
    const sink = s3Sink(fresh);
    await sink.makeBucket('fresh-camera');
    const time = toExifTime(new Date(Date.now() - 3_600_000), 'Europe/Amsterdam');
    const jpeg = await generateCameraImage({
      width: 320,
      height: 240,
      captureTime: time.dateTime,
      offsetTime: time.offset,
    });
    await sink.putObject('fresh-camera', '2026/11/fresh.jpg', jpeg, { 'Content-Type': 'image/jpeg' });
    sink.close();
    await writeFile(join(dir, 'clean.yaml'), freshConfig('fresh-camera'));
    await writeFile(join(dir, 'missing.yaml'), freshConfig('fresh-camera, gone-camera'));
  });

  after(async () => {
    const redis = new Redis('redis://127.0.0.1:6379');
    for (const p of [prefix, world?.prefix]) {
      const keys = p ? await redis.keys(`${p}:*`) : [];
      if (keys.length > 0) await redis.del(...keys);
    }
    await redis.quit();
    await fresh?.close();
    await world?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('exits 2 on a bad config, one line per problem naming the path, and starts nothing', async () => {
    await writeFile(
      join(dir, 'bad.yaml'),
      'sources:\n  - id: x\n    role: edge\n    endpoint: ftp://nowhere\n',
    );
    const result = await runCli(['scan', '--config', join(dir, 'bad.yaml')], WORLD_ENV);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.include('config error: sources[0].endpoint: must be an http(s) URL');
    expect(result.stderr).to.include('config error: sources[0].buckets: is required');
    expect(result.stdout).to.equal('');
  });

  it('exits 2 when a credential variable is missing, naming it', async () => {
    const result = await runCli(['scan', '--config', join(dir, 'clean.yaml')], { EDGE_ACCESS_KEY: 'S3RVER' });
    expect(result.code).to.equal(2);
    expect(result.stderr).to.include(
      'sources[0].secretKeyEnv: environment variable EDGE_SECRET_KEY is not set',
    );
  });

  it('exits 2 before anything starts for a missing register file, a bad REDIS_URL, DATABASE_URL or host', async () => {
    const withRegister = freshConfig('fresh-camera').replace(
      'buckets: [fresh-camera]',
      'buckets: [fresh-camera]\n    register: no-such-register.csv',
    );
    await writeFile(join(dir, 'register.yaml'), withRegister);
    await writeFile(join(dir, 'host.yaml'), `${freshConfig('fresh-camera')}api: { host: not a host }\n`);
    const clean = join(dir, 'clean.yaml');
    const cases: Array<[string[], NodeJS.ProcessEnv, string]> = [
      [
        ['scan', '--config', join(dir, 'register.yaml')],
        WORLD_ENV,
        `config error: sources[0].register: ${join(dir, 'no-such-register.csv')} does not exist`,
      ],
      [
        ['scan', '--config', clean],
        { ...WORLD_ENV, REDIS_URL: 'secret-password@127.0.0.1:6379' },
        'config error: REDIS_URL: must be a redis:// or rediss:// URL',
      ],
      [
        ['scan', '--config', clean],
        { ...WORLD_ENV, DATABASE_URL: 'host=db password=secret-password' },
        'config error: database.urlEnv: DATABASE_URL must be a postgres:// or postgresql:// URL',
      ],
      [
        ['serve', '--config', join(dir, 'host.yaml')],
        WORLD_ENV,
        'config error: api.host: must be an IP address or a host name',
      ],
    ];
    for (const [args, env, line] of cases) {
      const result = await runCli(args, env);
      expect(result.code, args.join(' ')).to.equal(2);
      expect(result.stderr.trim(), args.join(' ')).to.equal(line);
      expect(result.stderr).to.not.include('secret-password');
    }
  });

  it('exits 4 with one line when Redis or the database does not answer, or the store is in use', async () => {
    const clean = join(dir, 'clean.yaml');
    const redisDown = await runCli(['scan', '--config', clean], {
      ...WORLD_ENV,
      REDIS_URL: 'redis://:secret-password@127.0.0.1:1',
    });
    expect(redisDown.code, redisDown.stderr).to.equal(4);
    expect(redisDown.stderr).to.equal('anpr-audit: Redis at 127.0.0.1:1 does not answer (ECONNREFUSED)\n');
    const databaseDown = await runCli(['scan', '--config', clean], {
      ...WORLD_ENV,
      DATABASE_URL: 'postgresql://postgres:secret-password@127.0.0.1:1/test',
    });
    expect(databaseDown.code, databaseDown.stderr).to.equal(4);
    expect(databaseDown.stderr).to.equal(
      'anpr-audit: the database at 127.0.0.1:1 cannot be used (ECONNREFUSED)\n',
    );
    // A port already taken: found before any worker starts or schedule is synced.
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as AddressInfo;
      const serve = await runCli(['serve', '--config', clean, '--port', String(port)], WORLD_ENV);
      expect(serve.code, serve.stderr).to.equal(4);
      expect(serve.stderr).to.equal(`anpr-audit: the API cannot listen on 127.0.0.1:${port} (EADDRINUSE)\n`);
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
    // This process holds the embedded store the CLI would open (DATABASE_URL unset).
    const held = await openStore({ dataDir: join(dir, 'pglite') });
    try {
      const inUse = await runCli(['scan', '--config', clean], WORLD_ENV);
      expect(inUse.code, inUse.stderr).to.equal(4);
      expect(inUse.stderr).to.match(
        new RegExp(`^anpr-audit: the embedded store \\S+pglite is in use by process ${process.pid} on `),
      );
      expect(inUse.stderr.trim().split('\n')).to.have.length(1);
    } finally {
      await held.close();
    }
  });

  it('makes a token whose config entry reads back as printed, whatever its name holds', async () => {
    const name = 'ops: night #2, "late" [x]';
    const result = await runCli(['token', '--name', name, '--role', 'officer'], {});
    expect(result.code, result.stderr).to.equal(0);
    const token = result.stdout.trim();
    const entry = result.stderr.split('\n').find((line) => line.startsWith('  - {'))!;
    const config = parseConfig(
      `sources:\n  - { id: e, role: edge, endpoint: 'http://127.0.0.1:1', accessKeyEnv: A, secretKeyEnv: B, buckets: [abc] }\napi:\n  tokens:\n${entry}\n`,
      '/a.yaml',
      { A: 'a', B: 'b' },
    );
    expect(config.api.tokens).to.deep.equal([
      { name, role: 'officer', sha256: createHash('sha256').update(token).digest('hex') },
    ]);
  });

  it('exits 2 on usage errors: unknown option, unknown source, a --now without zone', async () => {
    const config = join(dir, 'clean.yaml');
    for (const args of [
      ['scan', '--config', config, '--frobnicate'],
      ['scan', '--config', config, '--source', 'edge-nowhere'],
      ['scan', '--config', config, '--now', '2026-11-20 12:00'],
      ['launch'],
    ]) {
      const result = await runCli(args, WORLD_ENV);
      expect(result.code, args.join(' ')).to.equal(2);
      expect(result.stderr).to.match(/usage error/);
    }
  });

  it('exits 0 for a complete scan without findings', async () => {
    const result = await runCli(['scan', '--config', join(dir, 'clean.yaml')], WORLD_ENV);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include('COMPLETED');
    expect(result.stdout).to.include('No findings.');
  });

  it('exits 3 when something could not be read, and says why', async () => {
    const result = await runCli(['scan', '--config', join(dir, 'missing.yaml'), '--json'], WORLD_ENV);
    expect(result.code, result.stderr).to.equal(3);
    const report = JSON.parse(result.stdout) as { scan: { status: string; errors: string[] } };
    expect(report.scan.status).to.equal('incomplete');
    expect(report.scan.errors.join('\n')).to.include('declared bucket "gone-camera" does not exist');
  });

  it('cancels the scan on Ctrl-C or SIGTERM: it ends cancelled, not running, and exits 3', async () => {
    // The read in flight is given up after 1 s instead of the default 30 s; a store of its own, in
    // which the object was never read (an earlier test's scan would make this one read nothing).
    const config = join(dir, 'cancel.yaml');
    await writeFile(
      config,
      freshConfig('fresh-camera')
        .replace('redis: {', 'queue: { shutdownTimeoutSeconds: 1 }\nredis: {')
        .replace(join(dir, 'pglite'), join(dir, 'pglite-cancel')),
    );
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      // Slow reads, so the scan is still running when the signal comes.
      fresh.gateway.setFaults({ failRate: 0, delayMs: 60_000 });
      try {
        const cli = startCli(['scan', '--config', config, '--json'], WORLD_ENV);
        await cli.stderrMatching(/edge-fresh|\d+\/\d+|running/i);
        cli.child.kill(signal);
        const result = await cli.result;
        expect(result.code, result.stderr).to.equal(3);
        expect(result.stderr).to.include(`${signal}: stopping (again to quit at once)`);
        const report = JSON.parse(result.stdout) as { scan: { id: string; status: string } };
        expect(report.scan.status, signal).to.equal('cancelled');
      } finally {
        fresh.gateway.setFaults({ failRate: 0 });
      }
    }
  });

  it('quits at once on a second signal, with 128 + its number', async () => {
    // The default 30 s to finish the read in flight, which the second signal cuts short.
    const config = join(dir, 'quit.yaml');
    await writeFile(
      config,
      freshConfig('fresh-camera').replace(join(dir, 'pglite'), join(dir, 'pglite-quit')),
    );
    fresh.gateway.setFaults({ failRate: 0, delayMs: 60_000 });
    try {
      const cli = startCli(['scan', '--config', config], WORLD_ENV);
      await cli.stderrMatching(/edge-fresh|\d+\/\d+|running/i);
      cli.child.kill('SIGINT');
      await cli.stderrMatching(/SIGINT: stopping/);
      cli.child.kill('SIGTERM');
      const result = await cli.result;
      expect(result.code, result.stderr).to.equal(143);
    } finally {
      fresh.gateway.setFaults({ failRate: 0 });
    }
  });

  it('scans a source named twice with --source once', async () => {
    const args = ['scan', '--config', join(dir, 'clean.yaml'), '--json', '--source', 'edge-fresh'];
    const result = await runCli([...args, '--source', 'edge-fresh'], WORLD_ENV);
    expect(result.code, result.stderr).to.equal(0);
    expect((JSON.parse(result.stdout) as { scan: { sources: string[] } }).scan.sources).to.deep.equal([
      'edge-fresh',
    ]);
  });

  it('exits 1 with findings and prints {scan, findings} with --json, judged at --now', async () => {
    const now = world.now.toISOString();
    const result = await runCli(
      ['scan', '--config', world.configPath, '--json', '--now', now, '--source', 'edge-jwbeyenlaan'],
      WORLD_ENV,
    );
    expect(result.code, result.stderr).to.equal(1);
    const report = JSON.parse(result.stdout) as {
      scan: { status: string; judgedAt: string };
      findings: Array<Record<string, unknown>>;
    };
    expect(report.scan.status).to.equal('completed');
    expect(report.scan.judgedAt).to.equal(now);
    const retention = report.findings.filter((f) => f.rule === 'edge-retention');
    expect(retention.length).to.be.greaterThan(0);
    for (const f of retention) {
      expect(f).to.include.keys(
        'rule',
        'severity',
        'source',
        'bucket',
        'key',
        'captureTime',
        'captureTimeOrigin',
        'lastModified',
        'ageHours',
        'threshold',
        'reason',
      );
      expect(f.source).to.equal('edge-jwbeyenlaan');
      expect(f.ageHours as number).to.be.greaterThan(48);
    }
  });
});
