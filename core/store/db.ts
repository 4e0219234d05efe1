/**
 * The one place that imports `pg` and `@electric-sql/pglite`: a minimal SQL handle that both a
 * PostgreSQL pool and an embedded PGlite database satisfy, so the repositories hold one dialect of SQL.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { PGlite, type Transaction as PGliteTransaction } from '@electric-sql/pglite';
import pg from 'pg';
import { lockDataDir, type DataDirLock } from './pglite-lock.js';

/** Which engine a {@link Db} runs on. */
export type DbKind = 'postgres' | 'pglite';

/**
 * A SQL handle. `query` takes one statement with `$1`-style parameters and returns its rows; `exec`
 * runs a parameterless script of one or more statements. Values come back as the drivers parse them:
 * timestamptz as `Date`, jsonb as parsed JSON, arrays as arrays, but int8 as a string on PostgreSQL and
 * a number on PGlite, so callers convert int8 columns with `Number()` (or cast to int in SQL).
 */
export interface Db {
  readonly kind: DbKind;
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  exec(sql: string): Promise<void>;
  /**
   * Runs `fn` in a transaction on one connection: committed when `fn` resolves, rolled back when it
   * rejects (and the rejection passed on). Called on a transaction's handle it nests as a savepoint.
   * Issue the queries of one transaction one after another, not in parallel.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  /** Releases the connections; a transaction handle's `close` does nothing. */
  close(): Promise<void>;
}

/** Where a {@link Db} lives. Exactly one of `databaseUrl` and `dataDir` is used, `databaseUrl` first. */
export interface OpenDbOptions {
  /** A `postgres://` URL: PostgreSQL through a `pg` pool. */
  databaseUrl?: string;
  /** A PGlite data directory (parents are created) or `memory://` for a throwaway database. */
  dataDir?: string;
  /**
   * A schema to hold every table: created when missing and made the only entry of `search_path`, so a
   * test can isolate itself in a fresh schema. Letters, digits and `_` only.
   */
  schema?: string;
  /** Most connections the PostgreSQL pool opens (default 10). */
  poolSize?: number;
  /**
   * Told about errors of idle pooled connections (a restarted server, a dropped network). Without a
   * listener such an error would crash the process; the next query fails visibly anyway.
   */
  onPoolError?: (error: Error) => void;
  /**
   * How long the first PostgreSQL connection may take, up to the server's first answer (default
   * {@link POSTGRES_STARTUP_TIMEOUT_MS}). Past it, `openDb` rejects with code `ETIMEDOUT`.
   */
  connectTimeoutMs?: number;
}

/**
 * How long start-up waits for PostgreSQL, as for Redis. Without a bound, a host that drops packets
 * (a firewall, a stopped VM) keeps start-up waiting for the kernel's TCP time-out, about 2 minutes.
 */
export const POSTGRES_STARTUP_TIMEOUT_MS = 10_000;

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/** Opens PostgreSQL when `databaseUrl` is set, else PGlite at `dataDir`; throws when neither is. */
export async function openDb(opts: OpenDbOptions): Promise<Db> {
  if (opts.schema !== undefined && !SCHEMA_NAME.test(opts.schema)) {
    throw new Error(`invalid schema name ${JSON.stringify(opts.schema)}: use letters, digits and _`);
  }
  if (opts.databaseUrl) return openPostgres(opts.databaseUrl, opts);
  if (opts.dataDir) return openPglite(opts.dataDir, opts.schema);
  throw new Error('openDb needs a databaseUrl (PostgreSQL) or a dataDir (PGlite)');
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** The URL with `-c search_path=<schema>` added to its `options` parameter. */
function withSearchPath(databaseUrl: string, schema: string): string {
  // pg lets the connection string override a separate `options` setting, so it has to go in the URL.
  const url = new URL(databaseUrl);
  const existing = url.searchParams.get('options');
  const option = `-c search_path=${schema}`;
  url.searchParams.set('options', existing ? `${existing} ${option}` : option);
  return url.toString();
}

async function openPostgres(databaseUrl: string, opts: OpenDbOptions): Promise<Db> {
  await probePostgres(databaseUrl, opts.connectTimeoutMs ?? POSTGRES_STARTUP_TIMEOUT_MS);
  const pool = new pg.Pool({
    connectionString: opts.schema ? withSearchPath(databaseUrl, opts.schema) : databaseUrl,
    max: opts.poolSize ?? 10,
  });
  pool.on('error', (error) => opts.onPoolError?.(error));
  const db = new PostgresDb(pool);
  if (opts.schema) {
    try {
      await db.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(opts.schema)}`);
    } catch (error) {
      // Two processes creating the same schema at once: the loser sees a duplicate, which is success.
      const code = (error as { code?: string }).code;
      if (code !== '23505' && code !== '42P06') {
        await pool.end();
        throw error;
      }
    }
  }
  return db;
}

/**
 * Connects once, bounded by `timeoutMs`, and disconnects. The bound cannot go on the pool: pg's
 * `connectionTimeoutMillis` also limits waiting for a free pooled connection, which a busy scan may do.
 */
async function probePostgres(databaseUrl: string, timeoutMs: number): Promise<void> {
  const client = new pg.Client({ connectionString: databaseUrl, connectionTimeoutMillis: timeoutMs });
  // A failed connect also emits 'error'; connect()'s rejection below is the one that counts.
  client.on('error', () => undefined);
  const started = Date.now();
  try {
    await client.connect();
  } catch (error) {
    // pg's time-out error has no code, only a message ('timeout expired' in pg 8).
    const e = error as { code?: unknown; message?: unknown };
    const timedOut = /timeout/i.test(String(e.message)) || Date.now() - started >= timeoutMs;
    if (e.code === undefined && timedOut) {
      throw Object.assign(new Error(`PostgreSQL did not answer within ${timeoutMs} ms`, { cause: error }), {
        code: 'ETIMEDOUT',
      });
    }
    throw error;
  } finally {
    await client.end().catch(() => undefined);
  }
}

class PostgresDb implements Db {
  readonly kind = 'postgres' as const;

  constructor(private readonly pool: pg.Pool) {}

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.pool.query(sql, params as unknown[]);
    return result.rows as T[];
  }

  async exec(sql: string): Promise<void> {
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      try {
        const result = await fn(new PostgresTxDb(client, 0));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          // A connection that cannot roll back must not go back to the pool.
          broken = rollbackError as Error;
        }
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Savepoint nesting shared by both engines' transaction handles. */
async function inSavepoint<T>(tx: Db, depth: number, fn: () => Promise<T>): Promise<T> {
  const name = `sp_${depth}`;
  await tx.exec(`SAVEPOINT ${name}`);
  try {
    const result = await fn();
    await tx.exec(`RELEASE SAVEPOINT ${name}`);
    return result;
  } catch (error) {
    await tx.exec(`ROLLBACK TO SAVEPOINT ${name}`);
    throw error;
  }
}

class PostgresTxDb implements Db {
  readonly kind = 'postgres' as const;

  constructor(
    private readonly client: pg.PoolClient,
    private readonly depth: number,
  ) {}

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.client.query(sql, params as unknown[]);
    return result.rows as T[];
  }

  async exec(sql: string): Promise<void> {
    await this.client.query(sql);
  }

  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const inner = new PostgresTxDb(this.client, this.depth + 1);
    return inSavepoint(this, this.depth + 1, () => fn(inner));
  }

  async close(): Promise<void> {}
}

async function openPglite(dataDir: string, schema: string | undefined): Promise<Db> {
  const inMemory = dataDir.startsWith('memory://');
  // PGlite creates its directory but not the parents (ENOENT otherwise).
  if (!inMemory) await mkdir(dirname(dataDir), { recursive: true });
  // One process per directory: a second one would write over the first's files.
  const lock = inMemory ? null : await lockDataDir(dataDir);
  let pglite: PGlite | undefined;
  try {
    pglite = await PGlite.create(dataDir);
    const db = new PgliteDb(pglite, lock);
    if (schema) {
      // One connection only, so a session-level search_path holds for every later query.
      await db.exec(
        `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}; SET search_path TO ${quoteIdent(schema)}`,
      );
    }
    return db;
  } catch (error) {
    await pglite?.close().catch(() => undefined);
    await lock?.release();
    throw error;
  }
}

class PgliteDb implements Db {
  readonly kind = 'pglite' as const;

  constructor(
    private readonly pglite: PGlite,
    private readonly lock: DataDirLock | null,
  ) {}

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.pglite.query<T>(sql, params as unknown[]);
    return result.rows;
  }

  async exec(sql: string): Promise<void> {
    await this.pglite.exec(sql);
  }

  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    return this.pglite.transaction((tx) => fn(new PgliteTxDb(tx, 0)));
  }

  async close(): Promise<void> {
    try {
      await this.pglite.close();
    } finally {
      await this.lock?.release();
    }
  }
}

class PgliteTxDb implements Db {
  readonly kind = 'pglite' as const;

  constructor(
    private readonly tx: PGliteTransaction,
    private readonly depth: number,
  ) {}

  async query<T>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
    const result = await this.tx.query<T>(sql, params as unknown[]);
    return result.rows;
  }

  async exec(sql: string): Promise<void> {
    await this.tx.exec(sql);
  }

  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    const inner = new PgliteTxDb(this.tx, this.depth + 1);
    return inSavepoint(this, this.depth + 1, () => fn(inner));
  }

  async close(): Promise<void> {}
}
