/**
 * The store contract, run unchanged against PostgreSQL (a fresh schema per run, dropped afterwards)
 * and PGlite in memory (opened once: it takes seconds to start).
 */
import { openTestStore, TEST_STORE_KINDS, type TestStore } from '../../helpers/database.js';
import { findingTests } from './findings.suite.js';
import { findingStatusTests } from './findings-status.suite.js';
import { listingTests } from './listing.suite.js';
import { migrationTests } from './migrations.suite.js';
import { objectTests } from './objects.suite.js';
import { scanTests } from './scans.suite.js';

for (const kind of TEST_STORE_KINDS) {
  describe(`store on ${kind}`, function () {
    this.timeout(60_000);
    let opened: TestStore | undefined;

    before(async () => {
      opened = await openTestStore(kind);
    });

    after(async () => {
      await opened?.cleanup();
    });

    const get = (): TestStore => {
      if (!opened) throw new Error(`the ${kind} store did not open`);
      return opened;
    };

    migrationTests(get, kind);
    scanTests(get);
    findingTests(get);
    findingStatusTests(get);
    listingTests(get);
    objectTests(get);
  });
}
