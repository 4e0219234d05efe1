/**
 * Versioned SQL migrations: `migrations/NNN_name.sql`, applied in order, each recorded in
 * `schema_migrations`, all pending ones in one transaction.
 */
import { existsSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db } from './db.js';

/** A migration file: `001_initial.sql` is version `001`, name `initial`. */
export interface Migration {
  version: string;
  name: string;
  file: string;
}

const MIGRATION_FILE = /^(\d{3,})_([A-Za-z0-9_-]+)\.sql$/;

/**
 * The folder of the shipped migrations. tsc does not copy `.sql` into `dist/`, so a build run from
 * `dist/core/store` falls back to the sources' `core/store/migrations`.
 */
export function defaultMigrationsDir(): string {
  const here = fileURLToPath(new URL('./migrations/', import.meta.url));
  if (hasMigrations(here)) return here;
  const marker = `${sep}dist${sep}`;
  const at = here.lastIndexOf(marker);
  if (at >= 0) {
    const source = here.slice(0, at) + sep + here.slice(at + marker.length);
    if (hasMigrations(source)) return source;
  }
  return here;
}

function hasMigrations(dir: string): boolean {
  return existsSync(dir) && readdirSync(dir).some((file) => MIGRATION_FILE.test(file));
}

/** The migrations in `dir`, ordered by version; throws on two files with one version. */
export function listMigrations(dir: string = defaultMigrationsDir()): Migration[] {
  const migrations = readdirSync(dir)
    .map((file) => ({ file, match: MIGRATION_FILE.exec(file) }))
    .filter((entry): entry is { file: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ file, match }) => ({ version: match[1] ?? '', name: match[2] ?? '', file: join(dir, file) }))
    .sort((a, b) => Number(a.version) - Number(b.version));
  for (let i = 1; i < migrations.length; i++) {
    if (Number(migrations[i]?.version) === Number(migrations[i - 1]?.version)) {
      throw new Error(`two migrations with version ${migrations[i]?.version} in ${dir}`);
    }
  }
  return migrations;
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in version order, in one transaction
 * (all or none), and returns the versions it applied (empty when the schema was current). On
 * PostgreSQL it first takes a transaction-scoped advisory lock for the current schema, so processes
 * starting together migrate one after the other and the later ones find nothing to do. Versions
 * recorded but unknown here (a newer release migrated this database) are left alone.
 */
export async function migrate(db: Db, opts: { dir?: string } = {}): Promise<string[]> {
  const migrations = listMigrations(opts.dir);
  return db.transaction(async (tx) => {
    if (tx.kind === 'postgres') {
      // Taken before the CREATE TABLE: concurrent CREATE TABLE IF NOT EXISTS can itself collide.
      await tx.query(`SELECT pg_advisory_xact_lock(hashtext('anpr-audit:migrate:' || current_schema()))`);
    }
    await tx.exec(
      `CREATE TABLE IF NOT EXISTS schema_migrations (
         version text PRIMARY KEY,
         name text NOT NULL,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const rows = await tx.query<{ version: string }>('SELECT version FROM schema_migrations');
    const applied = new Set(rows.map((row) => row.version));
    const done: string[] = [];
    for (const migration of migrations) {
      if (applied.has(migration.version)) continue;
      await tx.exec(await readFile(migration.file, 'utf8'));
      await tx.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        migration.version,
        migration.name,
      ]);
      done.push(migration.version);
    }
    return done;
  });
}
