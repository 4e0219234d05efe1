/**
 * The API under test: a config with three tokens (one per role), the app on port 0 over a real store
 * and a real Redis queue with a prefix of its own, a client that checks every response against the
 * OpenAPI document, and the log lines it wrote.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import type { Express } from 'express';
import { parseConfig, type Config } from '../../../config/load.js';
import { createLogger, type Logger } from '../../../core/log.js';
import { openRuntime, type Runtime } from '../../../core/runtime.js';
import type { Store } from '../../../core/store/store.js';
import { createApp } from '../../../server/app.js';
import type { AppDeps, SourceSchedule } from '../../../server/deps.js';
import type { OpenApiDocument } from '../../../server/openapi/document.js';
import { openTestStore, type TestStore, type TestStoreKind } from '../../helpers/database.js';
import { Conformance } from './conformance.js';
import { seedFindings, type Seeded } from './seed.js';

export type RoleName = 'admin' | 'officer' | 'viewer';
export type Tokens = Record<RoleName, string>;

/** Random tokens, so a leak in a log is recognisable and no test shares one. */
export function newTokens(): Tokens {
  const token = (role: string) => `${role}-${randomBytes(24).toString('base64url')}`;
  return { admin: token('admin'), officer: token('officer'), viewer: token('viewer') };
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Credentials the config names: the log test checks none of them ever shows. */
export function newSecrets(): Record<string, string> {
  return {
    EDGE_ACCESS_KEY: `edge-access-${randomBytes(8).toString('hex')}`,
    EDGE_SECRET_KEY: `edge-secret-${randomBytes(16).toString('hex')}`,
    VENDOR_ACCESS_KEY: `vendor-access-${randomBytes(8).toString('hex')}`,
    VENDOR_SECRET_KEY: `vendor-secret-${randomBytes(16).toString('hex')}`,
  };
}

/** Two sources on an endpoint nobody listens on (the e2e test brings a real one). */
export const DEFAULT_SOURCES = [
  {
    id: 'edge-a',
    role: 'edge',
    endpoint: 'http://127.0.0.1:9',
    accessKeyEnv: 'EDGE_ACCESS_KEY',
    secretKeyEnv: 'EDGE_SECRET_KEY',
    buckets: ['edge-a-bucket'],
    schedule: { every: '1h' },
  },
  {
    id: 'vendor-b',
    role: 'vendor',
    endpoint: 'http://127.0.0.1:9',
    accessKeyEnv: 'VENDOR_ACCESS_KEY',
    secretKeyEnv: 'VENDOR_SECRET_KEY',
    buckets: ['vendor-b-bucket'],
    violationSignal: { metadata: 'violation' },
  },
];

export interface TestConfigOptions {
  api?: Record<string, unknown>;
  queue?: Record<string, unknown>;
  sources?: unknown[];
  tokens?: Tokens;
  secrets?: Record<string, string>;
}

/** A validated config (through the real parser) with the three role tokens. */
export function testConfig(opts: TestConfigOptions = {}): {
  config: Config;
  tokens: Tokens;
  secrets: Record<string, string>;
} {
  const tokens = opts.tokens ?? newTokens();
  const secrets = opts.secrets ?? newSecrets();
  const raw = {
    sources: opts.sources ?? DEFAULT_SOURCES,
    ...(opts.queue ? { queue: opts.queue } : {}),
    api: {
      tokens: (Object.keys(tokens) as RoleName[]).map((role) => ({
        name: `${role}-token`,
        role,
        sha256: sha256(tokens[role]),
      })),
      ...opts.api,
    },
  };
  return { config: parseConfig(JSON.stringify(raw), '/tmp/api-test.yaml', secrets), tokens, secrets };
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  /** Parsed JSON for JSON answers, the text otherwise. */
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

export interface RequestOptions {
  token?: string | null;
  body?: unknown;
  /** Sent as is (with `contentType`), e.g. malformed JSON. */
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

/** fetch against the app, every answer checked against the OpenAPI document. */
export class ApiClient {
  constructor(
    readonly baseUrl: string,
    readonly conformance: Conformance,
  ) {}

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: string | undefined;
    if (opts.rawBody !== undefined) {
      body = opts.rawBody;
      headers['content-type'] = opts.contentType ?? 'application/json';
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = opts.contentType ?? 'application/json';
    }
    const res = await fetch(`${this.baseUrl}${path}`, { method, headers, body });
    const text = await res.text();
    const type = res.headers.get('content-type');
    const parsed: unknown = type?.startsWith('application/json') && text !== '' ? JSON.parse(text) : text;
    this.conformance.check(method, new URL(path, this.baseUrl).pathname, res.status, type, parsed);
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  get(path: string, token?: string | null, opts: RequestOptions = {}): Promise<ApiResponse> {
    return this.request('GET', path, { ...opts, token });
  }

  post(path: string, token: string | null, body?: unknown, opts: RequestOptions = {}): Promise<ApiResponse> {
    return this.request('POST', path, { ...opts, token, body });
  }

  delete(path: string, token: string | null): Promise<ApiResponse> {
    return this.request('DELETE', path, { token });
  }
}

export interface TestApi {
  app: Express;
  url: string;
  client: ApiClient;
  document: OpenApiDocument;
  config: Config;
  tokens: Tokens;
  secrets: Record<string, string>;
  store: Store;
  runtime: Runtime;
  /** The app's logger, for workers started next to it. */
  logger: Logger;
  /** Everything logged so far. */
  logs(): string;
  close(): Promise<void>;
}

export interface StartOptions extends TestConfigOptions {
  store: Store;
  /** A ready config with the tokens its hashes stand for (instead of building one). */
  prepared?: { config: Config; tokens: Tokens; secrets: Record<string, string> };
  now?: () => Date;
  /** Where to listen; default 127.0.0.1. `::` makes IPv4 clients appear as IPv4-mapped IPv6. */
  host?: string;
  schedules?: () => Promise<SourceSchedule[]>;
  /** The conformance checker to share (so several apps add to one record of exercised routes). */
  conformance?: Conformance;
}

/** Starts the app over `store` with a fresh queue prefix; `close` obliterates the queue and closes all. */
export async function startTestApi(opts: StartOptions): Promise<TestApi> {
  const { config, tokens, secrets } = opts.prepared ?? testConfig(opts);
  const lines: string[] = [];
  const logger = createLogger({
    level: 'debug',
    destination: new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    }),
  });
  const prefix = `test-api-${randomUUID()}`;
  const runtime = await openRuntime(config, { prefix, store: opts.store });
  const deps: AppDeps = {
    config,
    store: opts.store,
    queue: runtime.queue,
    redis: runtime.redis,
    flows: runtime.flows,
    logger,
    now: opts.now,
    schedules: opts.schedules,
  };
  const app = createApp(deps);
  const server: Server = app.listen(0, opts.host ?? '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  const document = app.locals.openapi as OpenApiDocument;
  const conformance = opts.conformance ?? new Conformance(document);
  return {
    app,
    url,
    client: new ApiClient(url, conformance),
    document,
    config,
    tokens,
    secrets,
    store: opts.store,
    runtime,
    logger,
    logs: () => lines.join(''),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.queue.obliterate({ force: true });
      // Flow parents can leave keys obliterate does not know: remove the prefix whole.
      const keys = await runtime.redis.keys(`${prefix}:*`);
      if (keys.length > 0) await runtime.redis.del(...keys);
      await runtime.close();
    },
  };
}

/** Waits until `probe` returns a value other than undefined, polling; throws after `timeoutMs`. */
export async function waitFor<T>(
  probe: () => Promise<T | undefined>,
  timeoutMs = 10_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** What {@link withApi} gives each test. */
export interface ApiContext {
  api: TestApi;
  seeded: Seeded;
  now: Date;
}

/**
 * Registers hooks in the current `describe` that open a store (PostgreSQL by default), seed it,
 * start the app over it, and close everything afterwards. Returns a getter for the tests.
 */
export function withApi(opts: Omit<StartOptions, 'store'> & { kind?: TestStoreKind } = {}): () => ApiContext {
  let testStore: TestStore | undefined;
  let context: ApiContext | undefined;
  before(async function () {
    this.timeout(60_000);
    testStore = await openTestStore(opts.kind ?? 'postgres');
    const now = new Date();
    const seeded = await seedFindings(testStore.store, now);
    const api = await startTestApi({ ...opts, store: testStore.store });
    context = { api, seeded, now };
  });
  after(async function () {
    this.timeout(30_000);
    await context?.api.close();
    await testStore?.cleanup();
  });
  return () => {
    if (!context) throw new Error('the API did not start');
    return context;
  };
}
