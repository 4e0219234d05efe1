/**
 * A server or proxy that ignores Range (HTTP allows it) and sends the whole object with 200: the
 * head read takes the span it asked for from the body and stops there, rather than buffering a
 * 64 MiB object for 64 KiB of it. A plain HTTP server plays that server; s3rver always honours Range.
 */
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { SourceStorage } from '../../../core/storage/s3-storage.js';

const SIZE = 64 * 1024 * 1024;
const CHUNK = 256 * 1024;
/** Byte i of the object is i mod 251, so any span shows where it came from. */
const byteAt = (i: number): number => i % 251;
const pattern = Buffer.from(Array.from({ length: CHUNK + 251 }, (_, i) => byteAt(i)));
const expected = (offset: number, length: number): Buffer =>
  Buffer.from(Array.from({ length }, (_, i) => byteAt(offset + i)));

describe('head reads from a server that ignores Range', function () {
  this.timeout(30_000);
  let server: Server;
  let storage: SourceStorage;
  const answers: { sent: number; finished: boolean }[] = [];

  before(async () => {
    server = createServer((_req, res: ServerResponse) => {
      const answer = { sent: 0, finished: false };
      answers.push(answer);
      res.writeHead(200, { 'Content-Length': SIZE, 'Content-Type': 'image/jpeg' });
      const pump = (): void => {
        while (answer.sent < SIZE && !res.destroyed) {
          const start = answer.sent % 251;
          const piece = pattern.subarray(start, start + Math.min(CHUNK, SIZE - answer.sent));
          answer.sent += piece.length;
          if (!res.write(piece)) {
            res.once('drain', pump);
            return;
          }
        }
        if (!res.destroyed) res.end(() => (answer.finished = true));
      };
      pump();
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    storage = new SourceStorage(
      {
        endpoint: `http://127.0.0.1:${port}`,
        region: 'us-east-1',
        credentials: { accessKey: 'a', secretKey: 'b' },
      },
      { retries: 0, minTimeoutMs: 1, maxTimeoutMs: 5 },
    );
  });

  after(async () => {
    storage?.close();
    server.closeAllConnections();
    server.close();
  });

  it('returns exactly the span asked for, from its offset, and stops reading the body', async () => {
    for (const [offset, length] of [
      [0, 65_536],
      [1_000_003, 16_384],
    ] as const) {
      const head = await storage.readRange('vendor', 'archive/big.jpg', offset, length);
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
