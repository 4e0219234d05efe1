import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { plateHash } from '../../../core/plates/plates.js';
import { parseRegisterRow } from '../../../core/register/register-entry.js';
import { readRegister } from '../../../core/register/register-file.js';

const ZONE = 'Europe/Amsterdam';
const KEY = 'municipal-secret';
const PLATE = 'AB-123-C';
const PLATE_SHA = plateHash(PLATE);

describe('readRegister', () => {
  let dir: string;
  let count = 0;
  const file = (text: string): string => {
    count += 1;
    const path = join(dir, `register-${count}.csv`);
    writeFileSync(path, text);
    return path;
  };

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'register-spec-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads valid rows by key, by time and plate, with or without offset', () => {
    const path = file(
      [
        'source,captureTime,key,plate',
        'vendor-1,2026-11-20T08:30:00,cam1/a.jpg,',
        `vendor-1,2026-11-20T08:30:00.250+02:00,,${PLATE}`,
        `vendor-1,2026-11-20 09:00:00,cam1/b.jpg,${PLATE_SHA}`,
      ].join('\n'),
    );
    const { entries, problems } = readRegister(path, ZONE);
    expect(problems).to.deep.equal([]);
    expect(entries).to.deep.equal([
      {
        line: 2,
        source: 'vendor-1',
        key: 'cam1/a.jpg',
        captureTime: new Date('2026-11-20T07:30:00Z'),
        captureTimeLater: null,
        plateHash: null,
      },
      {
        line: 3,
        source: 'vendor-1',
        key: null,
        captureTime: new Date('2026-11-20T06:30:00.250Z'),
        captureTimeLater: null,
        plateHash: PLATE_SHA,
      },
      {
        line: 4,
        source: 'vendor-1',
        key: 'cam1/b.jpg',
        captureTime: new Date('2026-11-20T08:00:00Z'),
        captureTimeLater: null,
        plateHash: PLATE_SHA,
      },
    ]);
  });

  it('hashes clear plates with the configured key, and never keeps them', () => {
    const path = file(`source,captureTime,plate\nvendor-1,2026-11-20T08:30:00,${PLATE}\n`);
    const { entries } = readRegister(path, ZONE, KEY);
    expect(entries[0]?.plateHash).to.equal(plateHash(PLATE, KEY));
    expect(JSON.stringify(entries)).not.to.contain('AB');
  });

  it('reports a bad row by line and field and keeps reading', () => {
    const path = file(
      [
        'source,captureTime,key,plate',
        'vendor-1,AB-123-C,,AB-123-C',
        ',2026-11-20T08:30:00,cam1/x.jpg,',
        'vendor-1,2026-11-20T08:30:00,,',
        'vendor-1,not-a-time,cam1/kept-by-key.jpg,',
        'vendor-1,2026-11-20T08:30:00,,AB/123!C',
        'vendor-1,2026-11-20T08:31:00,cam1/ok.jpg,',
      ].join('\n'),
    );
    const { entries, problems } = readRegister(path, ZONE);
    expect(entries.map((e) => e.line)).to.deep.equal([5, 7]);
    expect(problems).to.deep.equal([
      'register line 2, captureTime: must be an ISO 8601 date and time, e.g. 2026-11-20T08:30:00 or 2026-11-20T08:30:00+01:00',
      'register line 2, row: cannot match any image and is skipped: it needs a key, or a capture time and a plate',
      'register line 3, source: is empty, so the row cannot be tied to a source and is skipped',
      'register line 4, row: cannot match any image and is skipped: it needs a key, or a capture time and a plate',
      'register line 5, captureTime: must be an ISO 8601 date and time, e.g. 2026-11-20T08:30:00 or 2026-11-20T08:30:00+01:00',
      'register line 6, plate: is neither a plate (letters and digits, with dashes or spaces) nor a 64-character SHA-256 hash',
      'register line 6, row: cannot match any image and is skipped: it needs a key, or a capture time and a plate',
    ]);
    expect(problems.join('\n')).not.to.match(/AB.?123/);
  });

  it('says that a plain SHA-256 plate can only match by key when a key is configured', () => {
    const path = file(
      [
        'source,captureTime,key,plate',
        `vendor-1,2026-11-20T08:30:00,cam1/a.jpg,${PLATE_SHA}`,
        `vendor-1,2026-11-20T08:30:00,,${PLATE_SHA}`,
      ].join('\n'),
    );
    const { entries, problems } = readRegister(path, ZONE, KEY);
    expect(entries).to.have.length(1);
    expect(entries[0]).to.include({ key: 'cam1/a.jpg', plateHash: null });
    expect(problems[0]).to.match(
      /^register line 2, plate: is a plain SHA-256 hash, but a plate hash key is configured/,
    );
    expect(problems[0]).to.contain('this row can only match by key');
    expect(problems[2]).to.match(/^register line 3, row: cannot match any image/);
  });

  it('notes a local time in the spring gap, and keeps the row', () => {
    const path = file(`source,captureTime,plate\nvendor-1,2026-03-29T02:30:00,${PLATE}\n`);
    const { entries, problems } = readRegister(path, ZONE);
    expect(entries[0]?.captureTime?.toISOString()).to.equal('2026-03-29T01:30:00.000Z');
    expect(problems).to.deep.equal([
      'register line 2, captureTime: local time does not exist in Europe/Amsterdam (clocks jump forward); read as 2026-03-29T03:30:00+02:00',
    ]);
  });

  it('reads a ;-separated Excel export with a BOM, CRLF, odd header case and extra columns', () => {
    const path = file(
      '\uFEFFSource ; CaptureTime;Kenteken eigenaar;KEY\r\n' +
        'vendor-1;2026-11-20T08:30:00;J. Jansen;cam1/a.jpg\r\n' +
        '\r\n' +
        'vendor-1;2026-11-20T08:31:00;;cam1/b.jpg\r\n',
    );
    const { entries, problems } = readRegister(path, ZONE);
    expect(problems).to.deep.equal([]);
    expect(entries.map((e) => [e.line, e.key])).to.deep.equal([
      [2, 'cam1/a.jpg'],
      [4, 'cam1/b.jpg'],
    ]);
    expect(JSON.stringify(entries)).not.to.contain('Jansen');
  });

  it('reads quoted line breaks and stray quotes leniently, so one bad quote costs no other row', () => {
    const path = file(
      [
        'source,captureTime,key',
        'vendor-1,2026-11-20T08:30:00,"cam1/multi',
        'line.jpg"',
        'vendor-1,2026-11-20T08:30:00,"cam1/a.jpg"x',
        'vendor-1,2026-11-20T08:31:00,cam1/b.jpg',
      ].join('\n'),
    );
    const { entries, problems } = readRegister(path, ZONE);
    expect(entries.map((e) => e.line)).to.deep.equal([2, 4, 5]);
    expect(entries[0]?.key).to.equal('cam1/multi\nline.jpg');
    expect(entries[1]?.key).to.equal('"cam1/a.jpg"x');
    expect(problems).to.deep.equal([]);
  });

  it('reports a row the CSV parser cannot read, and keeps the rows before it', () => {
    const path = file(
      'source,captureTime,key\nvendor-1,2026-11-20T08:31:00,cam1/b.jpg\nvendor-1,2026-11-20T08:31:00,"cam1/c.jpg\n',
    );
    const { entries, problems } = readRegister(path, ZONE);
    expect(entries.map((e) => e.key)).to.deep.equal(['cam1/b.jpg']);
    expect(problems).to.deep.equal([
      'register line 3, row: is not valid CSV and is skipped (CSV_QUOTE_NOT_CLOSED)',
    ]);
  });

  it('throws a clear error for a file without the needed columns', () => {
    expect(() =>
      readRegister(file('source,time,plate\nvendor-1,2026-11-20T08:30:00,AB123C\n'), ZONE),
    ).to.throw(
      /missing column\(s\) captureTime; the header must name source, captureTime and key and\/or plate \(found: source, time, plate\)/,
    );
    expect(() => readRegister(file('source,captureTime\n'), ZONE)).to.throw(
      /missing column\(s\) key and\/or plate/,
    );
    expect(() => readRegister(file(''), ZONE)).to.throw(/the file is empty/);
  });

  it('throws a clear error for a missing file or an unknown zone', () => {
    expect(() => readRegister(join(dir, 'nope.csv'), ZONE)).to.throw(/cannot read file \(ENOENT\)/);
    expect(() => readRegister(file('source,captureTime,key\n'), 'Mars/Olympus')).to.throw(
      /unknown time zone/,
    );
  });
});

describe('parseRegisterRow', () => {
  it('keeps both instants of an autumn-repeat local time', () => {
    const { entry } = parseRegisterRow(
      { source: 'v', captureTime: '2026-10-25T02:30:00', plate: PLATE },
      9,
      ZONE,
    );
    expect(entry?.captureTime?.toISOString()).to.equal('2026-10-25T00:30:00.000Z');
    expect(entry?.captureTimeLater?.toISOString()).to.equal('2026-10-25T01:30:00.000Z');
  });

  it('trims fields and treats blank ones as absent', () => {
    const { entry, problems } = parseRegisterRow(
      { source: ' v ', captureTime: '  ', key: ' k ', plate: ' ' },
      3,
      ZONE,
    );
    expect(problems).to.deep.equal([]);
    expect(entry).to.deep.include({ source: 'v', key: 'k', captureTime: null, plateHash: null });
  });

  it('lower-cases an upper-case SHA-256 plate', () => {
    const { entry } = parseRegisterRow(
      { source: 'v', captureTime: '2026-11-20T08:30:00Z', plate: PLATE_SHA.toUpperCase() },
      3,
      ZONE,
    );
    expect(entry?.plateHash).to.equal(PLATE_SHA);
  });
});
