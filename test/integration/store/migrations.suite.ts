/** Migrations: idempotent, recorded once, safe when several processes start together. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { openDb } from '../../../core/store/db.js';
import { listMigrations, migrate } from '../../../core/store/migrate.js';
import { openStore } from '../../../core/store/open-store.js';
import {
  dropSchema,
  TEST_DATABASE_URL,
  uniqueSchemaName,
  type TestStore,
  type TestStoreKind,
} from '../../helpers/database.js';
import { newScan } from './fixtures.js';

/** Registers the migration tests; some only make sense on one engine and are registered only there. */
export function migrationTests(get: () => TestStore, kind: TestStoreKind): void {
  describe('migrations', () => {
    it('applies nothing the second time and records each file once', async () => {
      const { db } = get();
      expect(await migrate(db)).to.deep.equal([]);
      const rows = await db.query<{ version: string }>(
        'SELECT version FROM schema_migrations ORDER BY version',
      );
      expect(rows.map((r) => r.version)).to.deep.equal(listMigrations().map((m) => m.version));
    });

    it('answers ping and names its engine', async () => {
      const { store, kind } = get();
      await store.ping();
      expect(store.kind).to.equal(kind);
    });

    if (kind === 'postgres') {
      it('opens the same schema again without migrating and sees the same data', async () => {
        const t = get();
        const scanId = await newScan(t.store);
        const second = await openStore(t.reopenOptions!);
        try {
          expect((await second.getScan(scanId))?.id).to.equal(scanId);
        } finally {
          await second.close();
        }
      });

      it('lets several processes open a fresh schema at once; each migration runs once', async () => {
        const schema = uniqueSchemaName('race');
        const opened = await Promise.allSettled(
          Array.from({ length: 4 }, () => openStore({ databaseUrl: TEST_DATABASE_URL, schema, poolSize: 2 })),
        );
        const stores = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
        try {
          expect(opened.filter((o) => o.status === 'rejected')).to.deep.equal([]);
          const db = await openDb({ databaseUrl: TEST_DATABASE_URL, schema });
          try {
            const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM schema_migrations');
            expect(rows[0]?.n).to.equal(listMigrations().length);
          } finally {
            await db.close();
          }
        } finally {
          await Promise.all(stores.map((store) => store.close()));
          await dropSchema(schema);
        }
      });
    }

    if (kind === 'pglite') {
      it('creates a data directory with its parents and reopens it with its data', async function () {
        this.timeout(120_000);
        const root = await mkdtemp(join(tmpdir(), 'store-spec-'));
        const dataDir = join(root, 'nested', 'deeper', 'pgdata');
        try {
          const first = await openStore({ dataDir });
          const scanId = await newScan(first);
          await first.close();
          const again = await openStore({ dataDir });
          try {
            expect((await again.getScan(scanId))?.status).to.equal('running');
          } finally {
            await again.close();
          }
        } finally {
          await rm(root, { recursive: true, force: true });
        }
      });
    }
  });
}
