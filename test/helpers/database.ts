/**
 * Real databases for integration tests: PostgreSQL in a fresh schema per call (dropped by `cleanup`),
 * or PGlite in memory. PGlite takes ~5 s to start, so open it once per file (in `before`).
 */
import { randomBytes } from 'node:crypto';
import { openDb, type Db } from '../../core/store/db.js';
import { migrate } from '../../core/store/migrate.js';
import { createStore, type OpenStoreOptions } from '../../core/store/open-store.js';
import type { Store } from '../../core/store/store.js';

/** The local PostgreSQL every integration test uses (its `test` database). */
export const TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

export type TestStoreKind = 'postgres' | 'pglite';
export const TEST_STORE_KINDS: readonly TestStoreKind[] = ['postgres', 'pglite'];

/** A migrated store on a throwaway database, with the handles a test may need besides the store. */
export interface TestStore {
  kind: TestStoreKind;
  store: Store;
  /** The store's own database handle, for assertions in SQL (closed with the store). */
  db: Db;
  /** Options that open this same database again (PostgreSQL); null for in-memory PGlite. */
  reopenOptions: OpenStoreOptions | null;
  /** Closes the store and, on PostgreSQL, drops its schema. Safe to call twice. */
  cleanup(): Promise<void>;
}

/** A schema name no other run uses: `<prefix>_<pid>_<time>_<random>`, lower case. */
export function uniqueSchemaName(prefix = 'test'): string {
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`.toLowerCase();
}

/** Drops a schema and everything in it (no error when it does not exist). */
export async function dropSchema(schema: string, databaseUrl: string = TEST_DATABASE_URL): Promise<void> {
  const db = await openDb({ databaseUrl });
  try {
    await db.exec(`DROP SCHEMA IF EXISTS "${schema.replaceAll('"', '""')}" CASCADE`);
  } finally {
    await db.close();
  }
}

/**
 * Opens a migrated store of the given kind: PostgreSQL at `databaseUrl` (default
 * {@link TEST_DATABASE_URL}) in a new schema, or PGlite at `memory://`.
 */
export async function openTestStore(
  kind: TestStoreKind,
  opts: { databaseUrl?: string; schemaPrefix?: string } = {},
): Promise<TestStore> {
  if (kind === 'pglite') {
    const db = await openDb({ dataDir: 'memory://' });
    await migrate(db);
    const store = createStore(db);
    let closed = false;
    return {
      kind,
      store,
      db,
      reopenOptions: null,
      cleanup: async () => {
        if (closed) return;
        closed = true;
        await store.close();
      },
    };
  }
  const databaseUrl = opts.databaseUrl ?? TEST_DATABASE_URL;
  const schema = uniqueSchemaName(opts.schemaPrefix);
  const db = await openDb({ databaseUrl, schema });
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    await dropSchema(schema, databaseUrl);
    throw error;
  }
  const store = createStore(db);
  let closed = false;
  return {
    kind,
    store,
    db,
    reopenOptions: { databaseUrl, schema },
    cleanup: async () => {
      if (closed) return;
      closed = true;
      try {
        await store.close();
      } finally {
        await dropSchema(schema, databaseUrl);
      }
    },
  };
}
