import { Writable } from 'node:stream';
import { expect } from 'chai';
import { createLogger } from '../../../core/log.js';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', destination }), lines };
}

describe('process logger', () => {
  it('masks plate-like parts of every string field, and of errors, not only of redacted paths', () => {
    const { logger, lines } = capture();
    class ReadError extends Error {
      code = 'SlowDown';
    }
    const key = '2026/11/24/GX-123-B_084512.jpg';
    logger.warn(
      { jobId: 'bucket:scan-1:cam:0', err: `1 object(s) of cam could not be read: ${key}: 503` },
      'failed',
    );
    logger.error({ err: new ReadError(`cannot read ${key}`) }, 'error object');
    logger.error({ reason: { message: `cannot list after ${key}`, code: 'SlowDown' } }, 'error-like');
    logger.info({ key, secretKey: 'abc' }, 'redacted by path');
    const text = lines.join('\n');
    expect(text).to.not.include('GX-123-B');
    const [first, second, third, fourth] = lines.map(
      (l) => JSON.parse(l) as { err: { type: string; message: string; stack: string }; reason: unknown },
    );
    expect(first).to.include({
      jobId: 'bucket:scan-1:cam:0',
      err: '1 object(s) of cam could not be read: 2026/11/24/**-***-*_084512.jpg: 503',
    });
    expect(second!.err).to.include({
      type: 'ReadError',
      code: 'SlowDown',
      message: 'cannot read 2026/11/24/**-***-*_084512.jpg',
    });
    expect(second!.err.stack).to.match(/^Error: cannot read 2026\/11\/24\/\*\*-\*\*\*-\*_084512\.jpg\n/);
    expect(third!.reason).to.deep.equal({
      message: 'cannot list after 2026/11/24/**-***-*_084512.jpg',
      code: 'SlowDown',
    });
    expect(fourth).to.include({ key: '[redacted]', secretKey: '[redacted]' });
  });
});
