/**
 * The Randwyck scenario on real embedded S3 servers (one per source, behind the auth gateway), with
 * a config pointing at them: the world the end-to-end tests scan.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig, type Config } from '../../config/load.js';
import { loadScenario, type LoadResult } from '../../fixtures/load-scenario.js';
import { randwyck } from '../../fixtures/scenarios/randwyck.js';
import { startScenarioStacks, type ScenarioStacks } from '../../fixtures/scenario-stacks.js';
import { S3RVER_CREDENTIALS } from '../../fixtures/s3-server.js';

export const WORLD_ENV = {
  EDGE_ACCESS_KEY: S3RVER_CREDENTIALS.accessKey,
  EDGE_SECRET_KEY: S3RVER_CREDENTIALS.secretKey,
  VENDOR_ACCESS_KEY: S3RVER_CREDENTIALS.accessKey,
  VENDOR_SECRET_KEY: S3RVER_CREDENTIALS.secretKey,
};

export interface RandwyckWorld {
  directory: string;
  stacks: ScenarioStacks;
  loaded: LoadResult;
  now: Date;
  /** Path of a config file for the CLI, and its parsed form. */
  configPath: string;
  config: Config;
  prefix: string;
  close(): Promise<void>;
}

/** The config YAML for the world's endpoints; `extra` is appended to the vendor source. */
export function worldConfigYaml(
  world: { stacks: ScenarioStacks; directory: string },
  prefix: string,
  extraSources = '',
): string {
  const url = (id: string) => world.stacks.stacks.get(id)!.url;
  const edge = (site: string) => `
  - id: edge-${site}
    role: edge
    endpoint: ${url(`edge-${site}`)}
    accessKeyEnv: EDGE_ACCESS_KEY
    secretKeyEnv: EDGE_SECRET_KEY
    buckets: [${site}]`;
  return `contract:
  timezone: Europe/Amsterdam
sources:${edge('jwbeyenlaan')}${edge('endepolsdomein')}${edge('josephbechlaan')}
  - id: vendor-ars
    role: vendor
    endpoint: ${url('vendor-ars')}
    accessKeyEnv: VENDOR_ACCESS_KEY
    secretKeyEnv: VENDOR_SECRET_KEY
    buckets: [ars-violations]
    concurrency: 16
    violationSignal: { metadata: violation, exif: ImageDescription.violation }
    register: ${join(world.directory, 'register.csv')}${extraSources}
redis: { url: 'redis://127.0.0.1:6379', prefix: ${prefix} }
database: { dataDir: ${join(world.directory, 'pglite')} }
`;
}

/** Starts the servers, loads the scenario relative to `now`, writes the register and a config. */
export async function startRandwyckWorld(now = new Date()): Promise<RandwyckWorld> {
  const directory = await mkdtemp(join(tmpdir(), 'anpr-world-'));
  const stacks = await startScenarioStacks(randwyck, join(directory, 's3'));
  try {
    const loaded = await loadScenario(randwyck, stacks.sink, now, {
      registerPath: join(directory, 'register.csv'),
      width: 320,
      height: 240,
    });
    const prefix = `test-${randomUUID()}`;
    const configPath = join(directory, 'auditor.yaml');
    const text = worldConfigYaml({ stacks, directory }, prefix);
    await writeFile(configPath, text);
    const config = parseConfig(text, configPath, WORLD_ENV);
    return {
      directory,
      stacks,
      loaded,
      now,
      configPath,
      config,
      prefix,
      async close() {
        await stacks.close();
        await rm(directory, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await stacks.close();
    throw error;
  }
}
