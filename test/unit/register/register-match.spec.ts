import { expect } from 'chai';
import { plateHash } from '../../../core/plates/plates.js';
import {
  parseRegisterRow,
  type RegisterEntry,
  type RegisterRow,
} from '../../../core/register/register-entry.js';
import {
  buildRegisterIndex,
  matchRegister,
  type RegisterQuery,
} from '../../../core/register/register-match.js';

const ZONE = 'Europe/Amsterdam';
const KEY = 'municipal-secret';

function entry(row: RegisterRow, plateKey?: string): RegisterEntry {
  const { entry: parsed, problems } = parseRegisterRow(row, 2, ZONE, plateKey);
  if (parsed === null) throw new Error(problems.map((p) => p.message).join('; '));
  return parsed;
}

const at = (iso: string, plusMs = 0) => new Date(new Date(iso).getTime() + plusMs);
const query = (overrides: Partial<RegisterQuery>): RegisterQuery => ({
  source: 'vendor-1',
  key: 'cam1/other.jpg',
  captureTime: null,
  plateHash: null,
  ...overrides,
});

describe('matchRegister', () => {
  describe('by key', () => {
    const index = buildRegisterIndex([entry({ source: 'vendor-1', captureTime: '', key: 'cam1/img-1.jpg' })]);

    it('matches the same source and key', () => {
      expect(matchRegister(index, query({ key: 'cam1/img-1.jpg' }))).to.deep.equal({
        matched: true,
        by: 'key',
      });
    });

    it('does not match another key or the same key on another source', () => {
      expect(matchRegister(index, query({ key: 'cam1/img-2.jpg' }))).to.deep.equal({
        matched: false,
        by: null,
      });
      expect(matchRegister(index, query({ source: 'vendor-2', key: 'cam1/img-1.jpg' })).matched).to.equal(
        false,
      );
    });
  });

  describe('by key, in any Unicode normal form', () => {
    const composed = 'cam1/Mu\u0308nsterstraat/img-1.jpg'.normalize('NFC');
    const decomposed = composed.normalize('NFD');

    it('matches a key stored decomposed against a register row written composed, and back', () => {
      expect(composed).not.to.equal(decomposed);
      const byComposed = buildRegisterIndex([entry({ source: 'vendor-1', captureTime: '', key: composed })]);
      expect(matchRegister(byComposed, query({ key: decomposed })).by).to.equal('key');
      const byDecomposed = buildRegisterIndex([
        entry({ source: 'vendor-1', captureTime: '', key: decomposed }),
      ]);
      expect(matchRegister(byDecomposed, query({ key: composed })).by).to.equal('key');
      expect(matchRegister(byComposed, query({ key: composed.replace('\u00fc', 'u') })).matched).to.equal(
        false,
      );
    });
  });

  describe('by capture time and plate', () => {
    const register = entry({
      source: 'vendor-1',
      captureTime: '2026-11-20T08:30:00+01:00',
      plate: 'AB-123-C',
    });
    const index = buildRegisterIndex([register]);
    const t0 = '2026-11-20T07:30:00Z';
    const hash = plateHash('ab123c');

    it('matches at exactly the same time', () => {
      expect(matchRegister(index, query({ captureTime: at(t0), plateHash: hash }))).to.deep.equal({
        matched: true,
        by: 'capture-time+plate',
      });
    });

    it('matches 2.000 s apart on either side, not 2.001 s', () => {
      for (const delta of [2000, -2000, 1999, -1, 1]) {
        expect(
          matchRegister(index, query({ captureTime: at(t0, delta), plateHash: hash })).matched,
          `${delta}`,
        ).to.equal(true);
      }
      for (const delta of [2001, -2001, 60_000, 3_600_000]) {
        expect(
          matchRegister(index, query({ captureTime: at(t0, delta), plateHash: hash })).matched,
          `${delta}`,
        ).to.equal(false);
      }
    });

    it('matches across a time-slot boundary', () => {
      const edge = entry({
        source: 'vendor-1',
        captureTime: '2026-11-20T08:30:01.999+01:00',
        plate: 'AB123C',
      });
      const edgeIndex = buildRegisterIndex([edge]);
      expect(
        matchRegister(edgeIndex, query({ captureTime: at('2026-11-20T07:30:02.001Z'), plateHash: hash }))
          .matched,
      ).to.equal(true);
      expect(
        matchRegister(edgeIndex, query({ captureTime: at('2026-11-20T07:29:59.999Z'), plateHash: hash }))
          .matched,
      ).to.equal(true);
    });

    it('does not match another plate at the same time', () => {
      expect(
        matchRegister(index, query({ captureTime: at(t0), plateHash: plateHash('XY-999-Z') })).matched,
      ).to.equal(false);
    });

    it('does not match the same plate and time on another source', () => {
      expect(
        matchRegister(index, query({ source: 'vendor-2', captureTime: at(t0), plateHash: hash })).matched,
      ).to.equal(false);
    });

    it('needs both a capture time and a plate hash from the image', () => {
      expect(matchRegister(index, query({ captureTime: at(t0) })).matched).to.equal(false);
      expect(matchRegister(index, query({ plateHash: hash })).matched).to.equal(false);
    });

    it('matches a row whose plate was exported already hashed (plain SHA-256, no key configured)', () => {
      const hashed = entry({
        source: 'vendor-1',
        captureTime: '2026-11-20T08:30:00+01:00',
        plate: hash.toUpperCase(),
      });
      expect(hashed.plateHash).to.equal(hash);
      expect(
        matchRegister(buildRegisterIndex([hashed]), query({ captureTime: at(t0), plateHash: hash })).matched,
      ).to.equal(true);
    });

    it('matches with a keyed hash when the register plate is in clear', () => {
      const keyed = entry(
        { source: 'vendor-1', captureTime: '2026-11-20T08:30:00+01:00', plate: 'ab 123 c' },
        KEY,
      );
      const keyedIndex = buildRegisterIndex([keyed]);
      expect(
        matchRegister(keyedIndex, query({ captureTime: at(t0), plateHash: plateHash('AB-123-C', KEY) }))
          .matched,
      ).to.equal(true);
      expect(matchRegister(keyedIndex, query({ captureTime: at(t0), plateHash: hash })).matched).to.equal(
        false,
      );
    });
  });

  describe('zones and DST', () => {
    const hash = plateHash('AB-123-C');
    const local = (captureTime: string) =>
      buildRegisterIndex([entry({ source: 'vendor-1', captureTime, plate: 'AB-123-C' })]);
    const matches = (index: ReturnType<typeof local>, iso: string) =>
      matchRegister(index, query({ captureTime: at(iso), plateHash: hash })).matched;

    it('reads a local row in the contract zone (winter +01:00)', () => {
      const index = local('2026-11-20T08:30:00');
      expect(matches(index, '2026-11-20T07:30:00Z')).to.equal(true);
      expect(matches(index, '2026-11-20T08:30:00Z')).to.equal(false);
    });

    it('reads a row with +02:00 by its offset', () => {
      const index = local('2026-11-20T09:30:00+02:00');
      expect(matches(index, '2026-11-20T07:30:00Z')).to.equal(true);
    });

    it('spring gap: 2026-03-29T02:30:00 matches 01:30Z (= 03:30 +02:00 = 02:30 +01:00) only', () => {
      const index = local('2026-03-29T02:30:00');
      expect(matches(index, '2026-03-29T01:30:00Z')).to.equal(true);
      expect(matches(index, '2026-03-29T00:30:00Z')).to.equal(false);
      expect(matches(index, '2026-03-29T02:30:00Z')).to.equal(false);
    });

    it('autumn repeat: 2026-10-25T02:30:00 is stored as the earlier instant and matches both occurrences', () => {
      const row = entry({ source: 'vendor-1', captureTime: '2026-10-25T02:30:00', plate: 'AB-123-C' });
      expect(row.captureTime?.toISOString()).to.equal('2026-10-25T00:30:00.000Z');
      expect(row.captureTimeLater?.toISOString()).to.equal('2026-10-25T01:30:00.000Z');
      const index = buildRegisterIndex([row]);
      expect(matches(index, '2026-10-25T00:30:00Z')).to.equal(true);
      expect(matches(index, '2026-10-25T01:30:01.500Z')).to.equal(true);
      expect(matches(index, '2026-10-25T02:30:00Z')).to.equal(false);
    });
  });

  it('indexes many rows and still finds the right one', () => {
    const entries: RegisterEntry[] = [];
    const start = Date.parse('2026-11-01T00:00:00Z');
    for (let i = 0; i < 20_000; i += 1) {
      entries.push({
        line: i + 2,
        source: 'vendor-1',
        key: null,
        captureTime: new Date(start + i * 1000),
        captureTimeLater: null,
        plateHash: plateHash(`P${i}`),
      });
    }
    const index = buildRegisterIndex(entries);
    expect(index.size).to.equal(20_000);
    const started = process.hrtime.bigint();
    for (let i = 0; i < 20_000; i += 1) {
      const found = matchRegister(
        index,
        query({ captureTime: new Date(start + i * 1000 + 500), plateHash: plateHash(`P${i}`) }),
      );
      if (!found.matched) throw new Error(`row ${i} not matched`);
    }
    // A scan of all rows per image would take seconds here; the index answers in milliseconds.
    expect(Number(process.hrtime.bigint() - started) / 1e6).to.be.lessThan(1000);
  });
});
