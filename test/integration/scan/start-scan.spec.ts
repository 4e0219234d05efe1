/**
 * Starting a scan when the queue cannot take it must not leave a `running` scan that no job will
 * ever close (it would block its sources' schedules for good).
 */
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { createFlowProducer, scanJobOptions } from '../../../core/queue/connection.js';
import { startScan } from '../../../core/scan/start-scan.js';
import { openTestStore, type TestStore } from '../../helpers/database.js';

describe('starting a scan', () => {
  let db: TestStore;
  before(async () => (db = await openTestStore('postgres')));
  after(async () => db?.cleanup());

  it('closes the scan as failed, with the reason, when its flow cannot be queued', async () => {
    // A Redis that is not there (port 9, discard), and a client that fails at once instead of waiting.
    const settings = { url: 'redis://127.0.0.1:9', prefix: `test-${randomUUID()}` };
    const connection = new Redis(settings.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    connection.on('error', () => undefined);
    const flows = createFlowProducer(settings, connection);
    flows.on('error', () => undefined);
    let thrown: unknown;
    try {
      await startScan(db.store, flows, {
        sources: ['edge-a'],
        trigger: 'api',
        scanId: 'scan-orphan-test',
        jobOptions: scanJobOptions({}),
      });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).to.be.instanceOf(Error);
    const scan = await db.store.getScan('scan-orphan-test');
    expect(scan!.status).to.equal('failed');
    expect(scan!.errors.join('\n')).to.match(/could not be queued/);
    await flows.close().catch(() => undefined);
    connection.disconnect();
  });
});
