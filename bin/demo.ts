/**
 * `npm run demo [-- --serve]`: the Randwyck scenario end to end on embedded defaults. Starts an embedded S3 server
 * (s3rver behind a gateway that refuses unsigned requests to private buckets) with its data under
 * ./data/demo, loads three roadside cameras and the vendor's store, and scans them through the queue
 * with an in-process worker. Needs nothing but `npm ci` and Redis. With `--serve` it then keeps the
 * S3 servers up and serves the API (with workers and schedules) on the demo's findings until Ctrl-C,
 * for the demo tokens in config/demo.yaml.
 */
import { rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { ConfigError, demoEnvironment, loadConfig } from '../config/load.js';
import { openRuntime } from '../core/runtime.js';
import { loadScenario } from '../fixtures/load-scenario.js';
import { randwyck } from '../fixtures/scenarios/randwyck.js';
import { startScenarioStacks } from '../fixtures/scenario-stacks.js';
import { S3RVER_CREDENTIALS } from '../fixtures/s3-server.js';
import { EXIT, printOutcome, progressReporter, runScan } from './commands/scan.command.js';
import { startServer } from './commands/server.command.js';
import { StartupError } from '../core/startup-errors.js';

const DATA = resolve('data/demo');
const CONFIG = resolve('config/demo.yaml');
/** The gateway port of each source's embedded S3 server, as config/demo.yaml names them. */
const PORTS = {
  'edge-jwbeyenlaan': 4568,
  'edge-endepolsdomein': 4569,
  'edge-josephbechlaan': 4570,
  'vendor-ars': 4571,
};

async function main(): Promise<number> {
  const json = process.argv.includes('--json');
  const serve = process.argv.includes('--serve');
  const say = (line: string) => process.stderr.write(`${line}\n`);
  let config;
  try {
    config = loadConfig(
      CONFIG,
      demoEnvironment(S3RVER_CREDENTIALS, [
        'EDGE_ACCESS_KEY',
        'EDGE_SECRET_KEY',
        'VENDOR_ACCESS_KEY',
        'VENDOR_SECRET_KEY',
      ]),
      // The demo writes the register itself, as the back office would, after this.
      { checkRegisterFiles: false },
    );
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) say(`config error: ${problem}`);
    return EXIT.usage;
  }
  // A fresh world each run: the scenario's capture times are relative to now.
  await rm(DATA, { recursive: true, force: true });
  const world = await startScenarioStacks(randwyck, resolve(DATA, 's3'), PORTS);
  try {
    const now = new Date();
    for (const [source, stack] of world.stacks) say(`Embedded S3 server of ${source} on ${stack.url}`);
    say(`Loading the Randwyck scenario (data in ${DATA}/s3)...`);
    const loaded = await loadScenario(randwyck, world.sink, now, {
      registerPath: resolve(DATA, 'randwyck-register.csv'),
    });
    say(
      `Loaded ${loaded.objects.length} objects in ${loaded.buckets.length} buckets; register with ${loaded.register.rows.length} rows.`,
    );
    const runtime = await openRuntime(config);
    say(
      `Findings store: ${runtime.store.kind}${runtime.store.kind === 'pglite' ? ` (${config.database.dataDir})` : ''}; queue prefix ${runtime.queueSettings.prefix}.`,
    );
    const progress = progressReporter(process.stderr);
    try {
      const outcome = await runScan(runtime, {
        sources: config.sources.map((s) => s.id),
        onProgress: (scan) => progress.update(scan),
      });
      progress.stop();
      printOutcome(outcome, json, process.stdout);
      if (!serve) return outcome.exitCode;
    } finally {
      progress.stop();
      await runtime.close();
    }
    const server = await startServer(config, { workers: true });
    say(
      `\nAPI on ${server.url} (docs: ${server.url}/api/v1/docs); demo tokens: demo-admin, demo-officer, demo-viewer.`,
    );
    say(`  curl -H 'Authorization: Bearer demo-officer' ${server.url}/api/v1/findings?severity=critical`);
    say('Ctrl-C stops the API and the embedded S3 servers.');
    await new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve());
      process.once('SIGTERM', () => resolve());
    });
    await server.stop();
    return EXIT.findings;
  } finally {
    await world.close();
  }
}

main().then(
  // The demo's point is to show findings: exit 0 unless the demo itself broke.
  (code) => process.exit(code === EXIT.findings || code === EXIT.clean ? 0 : code),
  (error: unknown) => {
    // A service that is not there is told in one line; anything else is the demo's own failure.
    if (error instanceof StartupError) {
      process.stderr.write(`demo failed: ${error.message}\n`);
      process.exit(EXIT.unavailable);
    }
    process.stderr.write(`demo failed: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
