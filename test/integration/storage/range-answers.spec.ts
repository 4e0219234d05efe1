/**
 * Head reads from servers that answer Range as s3rver never does. A server or proxy may ignore
 * Range (HTTP allows it) and send the whole object with 200: the read takes the span it asked for
 * and stops there, rather than buffering a 64 MiB object for 64 KiB of it. A range answer without
 * Content-Length is read to its end, so its connection is kept. An object shorter than listed ends
 * the head read with a read error instead of asking again forever.
 */
import type { ServerResponse } from 'node:http';
import { expect } from 'chai';
import { parseConfig, type SourceConfig } from '../../../config/load.js';
import { readObject, type ReadContext } from '../../../core/scan/object-reader.js';
import { startPlainHttpStorage, type PlainHttpStorage } from '../../helpers/plain-http-storage.js';

const SIZE = 64 * 1024 * 1024;
const CHUNK = 256 * 1024;
/** Byte i of the object is i mod 251, so any span shows where it came from. */
const byteAt = (i: number): number => i % 251;
const pattern = Buffer.from(Array.from({ length: CHUNK + 251 }, (_, i) => byteAt(i)));
const expected = (offset: number, length: number): Buffer =>
  Buffer.from(Array.from({ length }, (_, i) => byteAt(offset + i)));

/** Sends bytes [start, end) of the pattern object, in chunks, minding back-pressure. */
function sendPattern(
  res: ServerResponse,
  start: number,
  end: number,
  answer: { sent: number; finished: boolean },
) {
  const pump = (): void => {
    while (start + answer.sent < end && !res.destroyed) {
      const at = start + answer.sent;
      const piece = pattern.subarray(at % 251, (at % 251) + Math.min(CHUNK, end - at));
      answer.sent += piece.length;
      if (!res.write(piece)) {
        res.once('drain', pump);
        return;
      }
    }
    if (!res.destroyed) res.end(() => (answer.finished = true));
  };
  pump();
}

describe('head reads from a server that ignores Range', function () {
  this.timeout(30_000);
  let plain: PlainHttpStorage;
  const answers: { sent: number; finished: boolean }[] = [];

  before(async () => {
    plain = await startPlainHttpStorage((_req, res) => {
      const answer = { sent: 0, finished: false };
      answers.push(answer);
      res.writeHead(200, { 'Content-Length': SIZE, 'Content-Type': 'image/jpeg' });
      sendPattern(res, 0, SIZE, answer);
    });
  });
  after(() => plain?.close());

  it('returns exactly the span asked for, from its offset, and stops reading the body', async () => {
    for (const [offset, length] of [
      [0, 65_536],
      [1_000_003, 16_384],
    ] as const) {
      const head = await plain.storage.readRange('vendor', 'archive/big.jpg', offset, length);
      expect(head.bytes.length).to.equal(length);
      expect(head.bytes.equals(expected(offset, length)), `bytes at ${offset}`).to.equal(true);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(answers).to.have.length(2);
    for (const answer of answers) {
      expect(answer.finished).to.equal(false);
      expect(answer.sent).to.be.below(SIZE / 4);
    }
  });
});

describe('head reads from a server that answers ranges without Content-Length', function () {
  let plain: PlainHttpStorage;

  before(async () => {
    plain = await startPlainHttpStorage((req, res) => {
      const [, first, last] = /bytes=(\d+)-(\d+)/.exec(req.headers.range ?? '')!.map(Number) as number[];
      // Chunked: no Content-Length, the body in two writes.
      res.writeHead(206, { 'Content-Range': `bytes ${first}-${last}/${SIZE}` });
      sendPattern(res, first!, last! + 1, { sent: 0, finished: false });
    });
  });
  after(() => plain?.close());

  it('reads each answer to its end and keeps one connection for all of them', async () => {
    for (const [offset, length] of [
      [0, 65_536],
      [65_536, 16_384],
      [1_000_003, 10],
    ] as const) {
      const head = await plain.storage.readRange('vendor', 'cam/a.jpg', offset, length);
      expect(head.bytes.equals(expected(offset, length)), `bytes at ${offset}`).to.equal(true);
    }
    expect(plain.connections()).to.equal(1);
  });
});

describe('a head read of an object shorter than listed', function () {
  let plain: PlainHttpStorage;
  let requests = 0;
  // A JPEG whose EXIF segment says 60 000 bytes, of which the server has only the first 2 000.
  const app1 = Buffer.alloc(4 + 59_998);
  app1.writeUInt16BE(0xffe1, 0);
  app1.writeUInt16BE(60_000, 2);
  app1.write('Exif\0\0', 4, 'latin1');
  const listedBytes = Buffer.concat([Buffer.from([0xff, 0xd8]), app1, Buffer.from([0xff, 0xd9])]);
  const served = listedBytes.subarray(0, 2000);

  before(async () => {
    plain = await startPlainHttpStorage((_req, res) => {
      requests += 1;
      res.writeHead(200, { 'Content-Length': served.length });
      res.end(served);
    });
  });
  after(() => plain?.close());

  it('ends with a read error saying so, after a bounded number of requests', async () => {
    const config = parseConfig(
      `sources:\n  - { id: v, role: vendor, endpoint: '${plain.endpoint}', accessKeyEnv: A, secretKeyEnv: S, buckets: [bucket] }\n`,
      '/x.yaml',
      { A: 'a', S: 'b' },
    );
    const ctx: ReadContext = {
      storage: plain.storage,
      source: config.sources[0] as SourceConfig,
      bucket: 'bucket',
      timezone: 'Europe/Amsterdam',
      headBytes: 65_536,
      maxHeadBytes: 1 << 20,
      plateHashKey: undefined,
      readSettings: 's',
    };
    const listed = { key: 'k.jpg', etag: 'e', size: listedBytes.length, lastModified: new Date() };
    const { state, transientError } = await readObject(ctx, listed);
    expect(transientError).to.equal(null);
    expect(state.readError).to.equal(
      `the object ended after 2000 of the ${listedBytes.length} bytes listed (changed while being read)`,
    );
    expect(requests).to.equal(2);
  });
});
