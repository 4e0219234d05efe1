/**
 * Bucket evidence a scan could not gather: a refused ListBuckets, anonymous probes that get no
 * answer. Such a scan is incomplete with the reason, and it closes none of the findings that the
 * missing evidence would have confirmed (undeclared and public buckets stay open).
 */
import { expect } from 'chai';
import type { Finding } from '../../../core/model.js';
import { runScan, type ScanOutcome } from '../../../bin/commands/scan.command.js';
import { openTestStore, type TestStore } from '../../helpers/database.js';
import { startRandwyckWorld, type RandwyckWorld } from '../../helpers/randwyck-world.js';
import { openTestRuntime } from '../../helpers/runtime.js';

describe('a vendor scan whose bucket evidence could not be gathered', function () {
  this.timeout(120_000);
  let world: RandwyckWorld;
  let db: TestStore;
  let runtime: Awaited<ReturnType<typeof openTestRuntime>>;
  const gateway = () => world.stacks.stacks.get('vendor-ars')!.gateway;
  const scanVendor = () => runScan(runtime, { sources: ['vendor-ars'], now: world.now, pollMs: 50 });

  /** The vendor's open bucket-level findings, as `bucket|rule`. */
  async function openBucketFindings(): Promise<string[]> {
    const page = await db.store.listFindings({ source: ['vendor-ars'], status: ['open'], limit: 500 });
    return page.items
      .filter((f: Finding) => f.key === '')
      .map((f) => `${f.bucket}|${f.rule}`)
      .sort();
  }

  let firstFindings: string[];

  before(async () => {
    world = await startRandwyckWorld();
    db = await openTestStore('postgres');
    runtime = await openTestRuntime(world.config, db.store, world.prefix);
    const first = await scanVendor();
    expect(first.scan.status, first.scan.errors.join('\n')).to.equal('completed');
    firstFindings = await openBucketFindings();
    expect(firstFindings).to.include.members([
      'ars-acc-2019|undeclared-bucket',
      'ars-public-export|undeclared-bucket',
      'ars-public-export|public-access',
    ]);
  });

  after(async () => {
    gateway()?.setFaults({ failRate: 0 });
    await runtime?.dispose();
    await db?.cleanup();
    await world?.close();
  });

  afterEach(() => gateway().setFaults({ failRate: 0 }));

  const errorsOf = (outcome: ScanOutcome) => outcome.scan.errors.join('\n');

  it('is incomplete when ListBuckets is refused, and keeps the undeclared buckets open', async () => {
    gateway().setFaults({ failRate: 0, denyListBuckets: true });
    const outcome = await scanVendor();
    expect(outcome.scan.status).to.equal('incomplete');
    expect(errorsOf(outcome)).to.match(
      /ListBuckets failed \(AccessDenied.*undeclared buckets cannot be ruled out/,
    );
    // The declared bucket was still read in full.
    expect(outcome.scan.objectsEvaluated).to.equal(
      world.loaded.objects.filter((o) => o.bucket === 'ars-violations').length,
    );
    expect(await openBucketFindings()).to.deep.equal(firstFindings);
  });

  it('is incomplete when the anonymous probes get no answer, and keeps public access open', async () => {
    gateway().setFaults({ failRate: 0, failUnsigned: true, failStatus: 503 });
    const outcome = await scanVendor();
    expect(outcome.scan.status).to.equal('incomplete');
    expect(errorsOf(outcome)).to.match(
      /bucket ars-public-export: public access could not be determined \(.*503/,
    );
    // Private buckets answer 403 to unsigned requests: a decision, not a reason to stop.
    expect(errorsOf(outcome)).not.to.include('bucket ars-violations: public access');
    expect(await openBucketFindings()).to.deep.equal(firstFindings);
  });

  it('completes again, with the same open findings, once the evidence is back', async () => {
    const outcome = await scanVendor();
    expect(outcome.scan.status, errorsOf(outcome)).to.equal('completed');
    expect(await openBucketFindings()).to.deep.equal(firstFindings);
  });
});
