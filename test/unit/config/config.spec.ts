import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { ConfigError, parseConfig } from '../../../config/load.js';

const ENV = {
  EDGE_ACCESS_KEY: 'ak',
  EDGE_SECRET_KEY: 'sk',
  VENDOR_ACCESS_KEY: 'vak',
  VENDOR_SECRET_KEY: 'vsk',
};

function problemsOf(text: string, env: NodeJS.ProcessEnv = ENV): string[] {
  try {
    parseConfig(text, '/etc/anpr/auditor.yaml', env);
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const edge = (extra = '') => `
  - id: edge-a
    role: edge
    endpoint: http://127.0.0.1:4568
    accessKeyEnv: EDGE_ACCESS_KEY
    secretKeyEnv: EDGE_SECRET_KEY
    buckets: [jwbeyenlaan]${extra}`;

describe('config', () => {
  it('accepts the shipped demo and default configs, with credentials from the environment', () => {
    for (const file of ['config/demo.yaml', 'config/auditor.yaml']) {
      const config = parseConfig(readFileSync(file, 'utf8'), `/repo/${file}`, ENV);
      expect(config.sources.map((s) => s.id)).to.include.members(['edge-jwbeyenlaan', 'vendor-ars']);
      expect(config.sources[0]!.credentials).to.deep.equal({ accessKey: 'ak', secretKey: 'sk' });
      expect(config.contract).to.include({ edgeRetentionHours: 48, timezone: 'Europe/Amsterdam' });
      expect(config.sources.find((s) => s.id === 'vendor-ars')!.register).to.equal(
        '/repo/data/demo/randwyck-register.csv',
      );
    }
  });

  it('fills defaults for contract, scan and database', () => {
    const config = parseConfig(`sources:${edge()}`, '/x/auditor.yaml', ENV);
    expect(config.contract).to.deep.equal({
      edgeRetentionHours: 48,
      vendorRetentionDays: 28,
      transferDeadlineHours: 48,
      graceMinutes: 0,
      timezone: 'Europe/Amsterdam',
      clockSkewToleranceMinutes: 5,
    });
    expect(config.sources[0]!.concurrency).to.equal(8);
    expect(config.sources[0]).to.include({ shardSize: 50000, firstScanShards: 16 });
    expect(config.scan.headBytes).to.equal(65536);
    expect(config.databaseUrl).to.equal(undefined);
  });

  it('names the path of each problem, one line each', () => {
    const problems = problemsOf(`
contract:
  edgeRetentionHours: -1
  timezone: Europe/Maastricht
sources:${edge()}
  - id: Vendor A
    role: cloud
    endpoint: ftp://vendor
    accessKeyEnv: vendor-key
    secretKeyEnv: VENDOR_SECRET_KEY
    buckets: []
    colour: blue
`);
    expect(problems).to.include.members([
      'contract.edgeRetentionHours: Too small: expected number to be >0',
      'contract.timezone: must be an IANA time zone',
      'sources[1].id: must be lower-case letters, digits and dashes',
      'sources[1].endpoint: must be an http(s) URL',
      'sources[1].accessKeyEnv: must be the name of an environment variable (A-Z, 0-9, _)',
      'sources[1].buckets: must declare at least one bucket',
      'sources[1]: unknown field(s): colour',
    ]);
    expect(problems.some((p) => p.startsWith('sources[1].role:'))).to.equal(true);
  });

  it('rejects shard settings out of range, naming the field', () => {
    const problems = problemsOf(`sources:${edge('\n    firstScanShards: 0\n    shardSize: 10')}`);
    expect(problems).to.have.length(2);
    expect(problems.some((p) => p.startsWith('sources[0].firstScanShards: Too small'))).to.equal(true);
    expect(problems.some((p) => p.startsWith('sources[0].shardSize: Too small'))).to.equal(true);
  });

  it('reports a missing credential variable as a config error, naming the field and the variable', () => {
    const problems = problemsOf(`sources:${edge()}`, { EDGE_ACCESS_KEY: 'ak' });
    expect(problems).to.deep.equal([
      'sources[0].secretKeyEnv: environment variable EDGE_SECRET_KEY is not set',
    ]);
  });

  it('rejects duplicate source ids and a missing sources list', () => {
    expect(problemsOf(`sources:${edge()}${edge()}`)).to.deep.equal([
      'sources[1].id: duplicate source id "edge-a"',
    ]);
    expect(problemsOf('contract: {}')[0]).to.match(/^sources: /);
  });

  it('reports YAML syntax errors with the file', () => {
    const problems = problemsOf('sources: [unclosed');
    expect(problems[0]).to.match(/^\/etc\/anpr\/auditor\.yaml: YAML: /);
  });

  it('validates schedules and violation signals', () => {
    const problems = problemsOf(
      `sources:${edge(`
    schedule: { every: hourly }
    violationSignal: { metadata: X-Amz-Meta-Violation }`)}`,
    );
    expect(problems).to.include('sources[0].schedule.every: must be a duration like 30m, 1h or 1d');
    expect(problems).to.include(
      'sources[0].violationSignal.metadata: must be a lower-case user-metadata name without x-amz-meta-',
    );
  });

  it('rejects a schedule of every 0, which the scheduler would refuse only at start', () => {
    const every = (value: string) => `sources:${edge(`\n    schedule: { every: ${value} }`)}`;
    expect(problemsOf(every('0m'))).to.deep.equal(['sources[0].schedule.every: must be longer than 0']);
    expect(problemsOf(every('00h'))).to.deep.equal(['sources[0].schedule.every: must be longer than 0']);
    expect(parseConfig(every('10s'), '/a.yaml', ENV).sources[0]!.schedule).to.deep.equal({ every: '10s' });
    // A number of 300 digits would reach the scheduler as Infinity.
    for (const tooLong of ['367d', '8785h', '9'.repeat(300) + 's']) {
      expect(problemsOf(every(tooLong)), tooLong).to.deep.equal([
        'sources[0].schedule.every: must be at most 366 days',
      ]);
    }
    expect(parseConfig(every('366d'), '/a.yaml', ENV).sources[0]!.schedule).to.deep.equal({ every: '366d' });
  });

  it('takes only URLs the services understand, and never quotes them back', () => {
    expect(problemsOf(`sources:${edge()}\nredis: { url: 'localhost:6379' }`)).to.deep.equal([
      'redis.url: must be a redis:// or rediss:// URL',
    ]);
    expect(
      parseConfig(`sources:${edge()}\nredis: { url: 'rediss://:pw@cache.example:6380/2' }`, '/a.yaml', ENV)
        .redis.url,
    ).to.equal('rediss://:pw@cache.example:6380/2');
    expect(problemsOf(`sources:${edge()}`, { ...ENV, REDIS_URL: 'pw@localhost' })).to.deep.equal([
      'REDIS_URL: must be a redis:// or rediss:// URL',
    ]);
    expect(problemsOf(`sources:${edge()}`, { ...ENV, DATABASE_URL: 'pw@db' })).to.deep.equal([
      'database.urlEnv: DATABASE_URL must be a postgres:// or postgresql:// URL',
    ]);
    const config = parseConfig(`sources:${edge()}`, '/a.yaml', {
      ...ENV,
      DATABASE_URL: 'postgresql://u:pw@db:5432/audit',
      REDIS_URL: 'redis://cache:6379',
    });
    expect(config).to.deep.include({ databaseUrl: 'postgresql://u:pw@db:5432/audit' });
    expect(config.redis.url).to.equal('redis://cache:6379');
    expect(problemsOf(`sources:${edge()}\napi: { host: 'bad host' }`)).to.deep.equal([
      'api.host: must be an IP address or a host name',
    ]);
    for (const host of ['0.0.0.0', '::', 'localhost', 'audit.gemeente.example']) {
      expect(parseConfig(`sources:${edge()}\napi: { host: '${host}' }`, '/a.yaml', ENV).api.host).to.equal(
        host,
      );
    }
  });

  it('rejects scan settings that contradict each other, naming the field', () => {
    const problems = problemsOf(
      `sources:${edge()}\nscan: { headBytes: 2000000, maxHeadBytes: 1048576, retryMinMs: 5000, retryMaxMs: 3000 }`,
    );
    expect(problems).to.deep.equal([
      'scan.headBytes: must not be larger than scan.maxHeadBytes',
      'scan.retryMinMs: must not be larger than scan.retryMaxMs',
    ]);
  });

  it('accepts only cron expressions the scheduler can run', () => {
    const yaml = (cron: string) => `sources:${edge(`\n    schedule: { cron: '${cron}' }`)}`;
    const withCron = (cron: string) => problemsOf(yaml(cron));
    for (const good of ['0 3 * * *', '*/10 * * * * *', '@daily']) {
      expect(parseConfig(yaml(good), '/a.yaml', ENV).sources[0]!.schedule).to.deep.equal({ cron: good });
    }
    const [problem, ...others] = withCron('61 3 * * *');
    expect(others).to.deep.equal([]);
    expect(problem).to.match(/^sources\[0\]\.schedule\.cron: not a cron expression \(.*61.*\)$/);
    expect(withCron('at three')[0]).to.match(/^sources\[0\]\.schedule\.cron: not a cron expression/);
  });
});
