/** Findings over the API: filters, sorting, paging, masking for viewers, evidence, and the status workflow. */
import { expect } from 'chai';
import { SEED_PLATES } from './seed.js';
import { withApi } from './harness.js';

describe('API: findings', function () {
  this.timeout(30_000);
  const ctx = withApi();

  describe('GET /api/v1/findings', () => {
    it('lists every finding, most severe first, with evidence for an officer', async () => {
      const { api, seeded } = ctx();
      const res = await api.client.get('/api/v1/findings', api.tokens.officer);
      expect(res.status).to.equal(200);
      expect(res.body.items).to.have.length(6);
      expect(res.body.items[0].id).to.equal(seeded.findings.bucketLevel.id);
      expect(res.body.nextCursor).to.equal(null);
      const plate = res.body.items.find((f: { id: string }) => f.id === seeded.findings.plateEdge.id);
      expect(plate).to.include({
        key: seeded.findings.plateEdge.key,
        redacted: false,
        etag: 'd41d8cd98f00b204e9800998ecf8427e',
      });
      expect(plate.details).to.have.property('hoursOver', 3);
    });

    it('filters by rule, severity, source, bucket, status, time and key text', async () => {
      const { api, seeded, now } = ctx();
      const ids = async (query: string) =>
        (await api.client.get(`/api/v1/findings?${query}`, api.tokens.officer)).body.items.map(
          (f: { id: string }) => f.id,
        );
      expect(await ids('rule=edge-retention')).to.deep.equal([seeded.findings.plateEdge.id]);
      expect(await ids('severity=medium,low&sort=firstSeen&order=asc')).to.have.members([
        seeded.findings.plateVendor.id,
        seeded.findings.formula.id,
        seeded.findings.fresh.id,
      ]);
      expect(await ids('severity=medium&severity=critical')).to.have.length(3);
      expect(await ids('source=edge-a&bucket=edge-a-bucket')).to.have.members([
        seeded.findings.plateEdge.id,
        seeded.findings.fresh.id,
      ]);
      expect(await ids('status=remediated')).to.deep.equal([seeded.findings.archived.id]);
      const since = new Date(now.getTime() - 2 * 3_600_000).toISOString();
      expect(await ids(`since=${encodeURIComponent(since)}`)).to.not.include(seeded.findings.archived.id);
      const until = new Date(now.getTime() - 2 * 3_600_000).toISOString();
      expect(await ids(`until=${encodeURIComponent(until)}`)).to.not.include(seeded.findings.fresh.id);
      expect(await ids(`q=${encodeURIComponent(SEED_PLATES[0]!.toLowerCase())}`)).to.deep.equal([
        seeded.findings.plateEdge.id,
      ]);
      expect(await ids(`scanId=${seeded.scan2}&delta=new`)).to.deep.equal([seeded.findings.fresh.id]);
      expect(await ids(`scanId=${seeded.scan2}&delta=remediated`)).to.deep.equal([
        seeded.findings.archived.id,
      ]);
      expect(await ids('suppressed=false')).to.have.length(6);
    });

    it('pages with a cursor without skipping or repeating', async () => {
      const { api } = ctx();
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `limit=2&sort=lastSeen&order=asc${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const res = await api.client.get(`/api/v1/findings?${query}`, api.tokens.viewer);
        seen.push(...res.body.items.map((f: { id: string }) => f.id));
        cursor = res.body.nextCursor;
        pages++;
      } while (cursor);
      expect(pages).to.equal(3);
      expect(new Set(seen).size).to.equal(6);
    });

    it('masks plate-like parts of keys and drops evidence for a viewer, and refuses a viewer key search', async () => {
      const { api, seeded } = ctx();
      const res = await api.client.get('/api/v1/findings', api.tokens.viewer);
      expect(res.status).to.equal(200);
      for (const plate of SEED_PLATES) expect(res.text).to.not.include(plate);
      const masked = res.body.items.find((f: { id: string }) => f.id === seeded.findings.plateEdge.id);
      expect(masked).to.include({
        redacted: true,
        etag: null,
        key: seeded.findings.plateEdge.key.replace(SEED_PLATES[0]!, '**-***-*'),
      });
      expect(masked.details).to.deep.equal({});
      const search = await api.client.get(`/api/v1/findings?q=${SEED_PLATES[0]}`, api.tokens.viewer);
      expect(search.status).to.equal(403);
      expect(search.body.message).to.match(/officer/);
    });
  });

  describe('GET /api/v1/findings/:id and its history', () => {
    it('gives the evidence, the history and where it may go next', async () => {
      const { api, seeded } = ctx();
      const res = await api.client.get(`/api/v1/findings/${seeded.findings.fresh.id}`, api.tokens.officer);
      expect(res.status).to.equal(200);
      expect(res.body.finding).to.include({
        id: seeded.findings.fresh.id,
        rule: 'clock-skew',
        status: 'open',
      });
      expect(res.body.history).to.deep.equal([]);
      expect(res.body.allowedTransitions).to.deep.equal(['acknowledged']);
      expect(
        (await api.client.get(`/api/v1/findings/${seeded.findings.fresh.id}/history`, api.tokens.officer))
          .body,
      ).to.deep.equal({ items: [] });
    });

    it('answers 404 for an unknown id', async () => {
      const { api } = ctx();
      expect((await api.client.get('/api/v1/findings/no-such-finding', api.tokens.officer)).status).to.equal(
        404,
      );
      expect(
        (await api.client.get('/api/v1/findings/no-such-finding/history', api.tokens.officer)).status,
      ).to.equal(404);
      const res = await api.client.post('/api/v1/findings/no-such-finding/status', api.tokens.officer, {
        status: 'acknowledged',
        comment: 'x',
      });
      expect(res.status).to.equal(404);
    });
  });

  describe('POST /api/v1/findings/:id/status', () => {
    it('goes open -> acknowledged -> accepted-risk -> open -> acknowledged -> resolved, recording who, when and why', async () => {
      const { api, seeded } = ctx();
      const id = seeded.findings.plateVendor.id;
      const path = `/api/v1/findings/${id}/status`;
      const officer = api.tokens.officer;
      const skip = await api.client.post(path, officer, { status: 'resolved', comment: 'fixed' });
      expect(skip.status).to.equal(409);
      expect(skip.body).to.include({ error: 'conflict', current: 'open' });
      expect(skip.body.allowed).to.deep.equal(['acknowledged']);

      const ack = await api.client.post(path, officer, {
        status: 'acknowledged',
        comment: 'vendor informed',
      });
      expect(ack.status).to.equal(200);
      expect(ack.body.finding.status).to.equal('acknowledged');
      expect(ack.body.allowedTransitions).to.deep.equal([
        'resolved',
        'false-positive',
        'accepted-risk',
        'open',
      ]);

      const noUntil = await api.client.post(path, officer, {
        status: 'accepted-risk',
        comment: 'test bucket',
      });
      expect(noUntil.status).to.equal(400);
      expect(noUntil.body.problems).to.deep.equal(['body.until: is required for accepted-risk']);
      const past = await api.client.post(path, officer, {
        status: 'accepted-risk',
        comment: 'x',
        until: '2020-01-01T00:00:00Z',
      });
      expect(past.body.problems).to.deep.equal(['body.until: must be in the future']);
      const untilOnResolve = await api.client.post(path, officer, {
        status: 'resolved',
        comment: 'x',
        until: '2099-01-01T00:00:00Z',
      });
      expect(untilOnResolve.status).to.equal(400);
      const tooFar = await api.client.post(path, officer, {
        status: 'accepted-risk',
        comment: 'x',
        until: new Date(Date.now() + 367 * 86_400_000).toISOString(),
      });
      expect(tooFar.body.problems).to.deep.equal(['body.until: must be at most 366 days ahead']);

      const until = new Date(Date.now() + 30 * 86_400_000).toISOString();
      const accepted = await api.client.post(path, officer, {
        status: 'accepted-risk',
        comment: 'accepted until migration',
        until,
      });
      expect(accepted.status).to.equal(200);
      expect(accepted.body.finding).to.include({ status: 'accepted-risk', acceptedUntil: until });
      const reopened = await api.client.post(path, officer, { status: 'open', comment: 'migration slipped' });
      expect(reopened.body.finding).to.include({ status: 'open', acceptedUntil: null });
      await api.client.post(path, officer, { status: 'acknowledged', comment: 'again' });
      const resolved = await api.client.post(path, api.tokens.admin, {
        status: 'resolved',
        comment: 'photos deleted by vendor',
      });
      expect(resolved.body.finding.status).to.equal('resolved');

      const history = resolved.body.history as Array<Record<string, unknown>>;
      expect(history.map((h) => [h.from, h.to, h.actor])).to.deep.equal([
        ['open', 'acknowledged', 'officer-token'],
        ['acknowledged', 'accepted-risk', 'officer-token'],
        ['accepted-risk', 'open', 'officer-token'],
        ['open', 'acknowledged', 'officer-token'],
        ['acknowledged', 'resolved', 'admin-token'],
      ]);
      expect(history[1]).to.include({ comment: 'accepted until migration', until });
      expect(Date.parse(history[4]!.at as string)).to.be.closeTo(Date.now(), 60_000);
    });

    it('reopens a remediated finding', async () => {
      const { api, seeded } = ctx();
      const res = await api.client.post(
        `/api/v1/findings/${seeded.findings.archived.id}/status`,
        api.tokens.officer,
        {
          status: 'open',
          comment: 'the object moved, it is not gone',
        },
      );
      expect(res.status).to.equal(200);
      expect(res.body.finding).to.include({ status: 'open', remediatedAt: null });
    });

    it('requires a comment and a status an officer may set', async () => {
      const { api, seeded } = ctx();
      const path = `/api/v1/findings/${seeded.findings.fresh.id}/status`;
      const blank = await api.client.post(path, api.tokens.officer, {
        status: 'acknowledged',
        comment: '   ',
      });
      expect(blank.body.problems).to.deep.equal(['body.comment: must not be empty']);
      const missing = await api.client.post(path, api.tokens.officer, { status: 'acknowledged' });
      expect(missing.body.problems).to.deep.equal(['body.comment: is required']);
      const remediated = await api.client.post(path, api.tokens.officer, {
        status: 'remediated',
        comment: 'x',
      });
      expect(remediated.status).to.equal(400);
      expect(remediated.body.problems[0]).to.match(/^body\.status: must be one of open, acknowledged/);
    });
  });
});
