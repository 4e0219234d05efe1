/** Migrations: idempotent, recorded once, safe when several processes start together. */
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
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

    if (kind === 'postgres') {
      it('gives risks accepted before 004 the date of their latest acceptance', async () => {
        const schema = uniqueSchemaName('upgrade');
        const before004 = await mkdtemp(join(tmpdir(), 'migrations-'));
        const db = await openDb({ databaseUrl: TEST_DATABASE_URL, schema });
        try {
          for (const m of listMigrations().filter((m) => Number(m.version) < 4)) {
            await copyFile(m.file, join(before004, basename(m.file)));
          }
          await migrate(db, { dir: before004 });
          await db.query(
            `INSERT INTO scans (id, sources, trigger, status, started_at, judged_at)
             VALUES ('s1', '{}', 'api', 'completed', now(), now())`,
          );
          const findingRow = (id: string, status: string) =>
            db.query(
              `INSERT INTO findings (id, source, bucket, key, rule, severity, threshold, reason, first_scan_id,
                 last_scan_id, first_seen, last_seen, status)
               VALUES ($1, 'src', 'b', $1, 'edge-retention', 'high', '48 h', 'r', 's1', 's1', now(), now(), $2)`,
              [id, status],
            );
          await findingRow('accepted', 'accepted-risk');
          await findingRow('reopened', 'open');
          const history = `INSERT INTO finding_history (finding_id, at, actor, from_status, to_status, until)
            VALUES ($1, $2::timestamptz, 'officer', 'acknowledged', $3, $4::timestamptz)`;
          await db.query(history, [
            'accepted',
            '2026-01-01T00:00:00Z',
            'accepted-risk',
            '2026-02-01T00:00:00Z',
          ]);
          await db.query(history, [
            'accepted',
            '2026-01-05T00:00:00Z',
            'accepted-risk',
            '2026-03-01T00:00:00Z',
          ]);
          await db.query(history, [
            'reopened',
            '2026-01-01T00:00:00Z',
            'accepted-risk',
            '2026-02-01T00:00:00Z',
          ]);
          expect(await migrate(db)).to.deep.equal(
            listMigrations()
              .filter((m) => Number(m.version) >= 4)
              .map((m) => m.version),
          );
          const rows = await db.query<{ id: string; until: string | null }>(
            `SELECT id, to_char(accepted_until AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS until FROM findings ORDER BY id`,
          );
          expect(rows).to.deep.equal([
            { id: 'accepted', until: '2026-03-01' },
            { id: 'reopened', until: null },
          ]);
        } finally {
          await db.close();
          await dropSchema(schema);
          await rm(before004, { recursive: true, force: true });
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
