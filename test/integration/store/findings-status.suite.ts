/** Findings and officers: statuses kept over rescans, accepted risks that lapse, remediation. */
import { expect } from 'chai';
import type { Finding } from '../../../core/model.js';
import type { TestStore } from '../../helpers/database.js';
import { at, finding, newScan, uid } from './fixtures.js';
import { expectRejection } from './scans.suite.js';

async function ofSource(get: () => TestStore, source: string): Promise<Map<string, Finding>> {
  const page = await get().store.listFindings({ source: [source], limit: 1000 });
  return new Map(page.items.map((f) => [`${f.key}|${f.rule}`, f]));
}

export function findingStatusTests(get: () => TestStore): void {
  describe('finding statuses', () => {
    it("keeps an officer's status over rescans and records every decision", async () => {
      const { store } = get();
      const source = uid('src');
      const statuses = ['acknowledged', 'resolved', 'false-positive', 'accepted-risk'] as const;
      const s1 = await newScan(store, [source]);
      await store.upsertFindings(
        s1,
        statuses.map((s) => finding(source, 'b', s)),
        at(1),
      );
      const found = await ofSource(get, source);
      for (const status of statuses) {
        const id = found.get(`${status}|edge-retention`)!.id;
        const updated = await store.setFindingStatus(id, {
          status,
          actor: 'officer-1',
          comment: `set ${status}`,
          until: status === 'accepted-risk' ? at(1000) : null,
          at: at(2),
        });
        expect(updated?.status).to.equal(status);
      }
      const s2 = await newScan(store, [source]);
      await store.upsertFindings(
        s2,
        statuses.map((s) => finding(source, 'b', s, 'edge-retention', { ageHours: 99 })),
        at(3),
      );
      const after = await ofSource(get, source);
      for (const status of statuses) {
        expect(after.get(`${status}|edge-retention`)).to.deep.include({
          status,
          ageHours: 99,
          lastSeen: at(3).toISOString(),
        });
      }
      const risk = after.get('accepted-risk|edge-retention')!;
      await store.setFindingStatus(risk.id, { status: 'open', actor: 'officer-2', at: at(4) });
      expect(await store.findingHistory(risk.id)).to.deep.equal([
        {
          at: at(2).toISOString(),
          actor: 'officer-1',
          from: 'open',
          to: 'accepted-risk',
          comment: 'set accepted-risk',
          until: at(1000).toISOString(),
        },
        {
          at: at(4).toISOString(),
          actor: 'officer-2',
          from: 'accepted-risk',
          to: 'open',
          comment: '',
          until: null,
        },
      ]);
      expect(await store.setFindingStatus('no-such-id', { status: 'resolved', actor: 'x' })).to.equal(null);
      expect(await store.findingHistory('no-such-id')).to.deep.equal([]);
      await expectRejection(
        store.setFindingStatus(risk.id, { status: 'remediated' as never, actor: 'x' }),
        RangeError,
      );
    });

    it('reopens an accepted risk seen after its date, once, with a history entry', async () => {
      const { store } = get();
      const source = uid('src');
      const s1 = await newScan(store, [source]);
      await store.upsertFindings(s1, [finding(source, 'b', 'k'), finding(source, 'b', 'gone')], at(1));
      const found = await ofSource(get, source);
      const id = found.get('k|edge-retention')!.id;
      const goneId = found.get('gone|edge-retention')!.id;
      for (const findingId of [id, goneId]) {
        const accepted = await store.setFindingStatus(findingId, {
          status: 'accepted-risk',
          actor: 'officer-1',
          comment: 'camera is being replaced',
          until: at(10),
          at: at(2),
        });
        expect(accepted).to.deep.include({ status: 'accepted-risk', acceptedUntil: at(10).toISOString() });
      }
      // Seen before the date (and at it: the acceptance holds until then): still accepted.
      const s2 = await newScan(store, [source]);
      await store.upsertFindings(s2, [finding(source, 'b', 'k')], at(9));
      await store.upsertFindings(s2, [finding(source, 'b', 'k')], at(10));
      expect(await store.getFinding(id)).to.deep.include({
        status: 'accepted-risk',
        acceptedUntil: at(10).toISOString(),
      });
      // Seen after it: open again, the date gone, the lapse in the history. Seen again: no second entry.
      const s3 = await newScan(store, [source]);
      await store.upsertFindings(s3, [finding(source, 'b', 'k')], at(11));
      await store.upsertFindings(s3, [finding(source, 'b', 'k')], at(11));
      expect(await store.getFinding(id)).to.deep.include({ status: 'open', acceptedUntil: null });
      const history = await store.findingHistory(id);
      expect(history).to.have.length(2);
      expect(history[1]).to.deep.equal({
        at: at(11).toISOString(),
        actor: `scan ${s3}`,
        from: 'accepted-risk',
        to: 'open',
        comment: `the risk was accepted until ${at(10).toISOString().replace('.000Z', 'Z')}; seen again after that, so reopened`,
        until: null,
      });
      // Remediation ends an acceptance too; an officer's other decisions carry no date.
      expect(await store.remediateUnseen(s3, source, 'b', at(11))).to.equal(1);
      expect(await store.getFinding(goneId)).to.deep.include({ status: 'remediated', acceptedUntil: null });
      const acknowledged = await store.setFindingStatus(id, {
        status: 'acknowledged',
        actor: 'officer-1',
        until: at(20),
      });
      expect(acknowledged?.acceptedUntil).to.equal(null);
    });

    it('remediates officer-handled findings too when their object is gone', async () => {
      const { store } = get();
      const source = uid('src');
      const s1 = await newScan(store, [source]);
      await store.upsertFindings(s1, [finding(source, 'b', 'k')], at(1));
      const id = (await ofSource(get, source)).get('k|edge-retention')!.id;
      await store.setFindingStatus(id, { status: 'acknowledged', actor: 'officer' });
      const s2 = await newScan(store, [source]);
      expect(await store.remediateUnseen(s2, source, 'b', at(2))).to.equal(1);
      expect((await store.getFinding(id))?.status).to.equal('remediated');
    });
  });
}
