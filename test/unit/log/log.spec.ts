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

interface Line {
  msg?: string;
  err?: { type: string; message: string; stack: string; code?: string; detail?: string };
  reason?: unknown;
  [field: string]: unknown;
}

const KEY = '2026/11/24/GX-123-B_084512.jpg';
const MASKED = '2026/11/24/**-***-*_084512.jpg';

describe('process logger', () => {
  it('masks plates in error fields, with their causes and fields kept, and in the message', () => {
    const { logger, lines } = capture();
    class ReadError extends Error {
      code = 'SlowDown';
      detail = `Key (key)=(${KEY}) already exists.`;
    }
    logger.warn(
      { jobId: 'bucket:scan-1:cam:0', err: `1 object(s) of cam could not be read: ${KEY}: 503` },
      'failed',
    );
    logger.error(
      { err: new ReadError('job failed', { cause: new Error(`cannot read ${KEY}`) }) },
      'error object',
    );
    logger.error(
      { reason: { message: `cannot list after ${KEY}`, code: 'SlowDown' } },
      `listing stopped before ${KEY}`,
    );
    logger.error(new Error(`cannot read ${KEY}`));
    expect(lines.join('\n')).to.not.include('GX-123-B');
    const [first, second, third, fourth] = lines.map((l) => JSON.parse(l) as Line);
    expect(first).to.include({
      jobId: 'bucket:scan-1:cam:0',
      err: `1 object(s) of cam could not be read: ${MASKED}: 503`,
    });
    // The cause is kept (pino's serializer joins it to the message), masked like the rest.
    expect(second!.err).to.include({
      type: 'ReadError',
      code: 'SlowDown',
      message: `job failed: cannot read ${MASKED}`,
      detail: `Key (key)=(${MASKED}) already exists.`,
    });
    expect(second!.err!.stack).to.include(`caused by: Error: cannot read ${MASKED}`);
    expect(third).to.deep.include({
      msg: `listing stopped before ${MASKED}`,
      reason: { message: `cannot list after ${MASKED}`, code: 'SlowDown' },
    });
    expect(fourth).to.include({ msg: `cannot read ${MASKED}` });
  });

  it('leaves the ids and counts callers chose alone, and redacts secrets and keys by path', () => {
    const { logger, lines } = capture();
    logger.info(
      { bucket: 'ars-acc-2019', jobId: 'bucket-vendor-ars.ars-acc-2019-0', waitedMs: 5000 },
      'waited',
    );
    logger.info({ key: KEY, secretKey: 'abc' }, 'redacted by path');
    const [ids, secrets] = lines.map((l) => JSON.parse(l) as Line);
    expect(ids).to.include({
      bucket: 'ars-acc-2019',
      jobId: 'bucket-vendor-ars.ars-acc-2019-0',
      waitedMs: 5000,
    });
    expect(secrets).to.include({ key: '[redacted]', secretKey: '[redacted]' });
  });
});
