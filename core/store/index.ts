/** The store's public surface: open it, and the types and errors callers handle. */
export { openStore, createStore, type OpenStoreOptions } from './open-store.js';
export { openDb, type Db, type DbKind, type OpenDbOptions } from './db.js';
export { migrate, listMigrations, defaultMigrationsDir, type Migration } from './migrate.js';
export { InvalidCursorError, ScanNotFoundError } from './errors.js';
export { DEFAULT_FINDING_PAGE, MAX_FINDING_PAGE } from './findings.query.js';
export type * from './store.js';
