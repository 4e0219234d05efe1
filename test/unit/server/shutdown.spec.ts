import { Writable } from 'node:stream';
import { expect } from 'chai';
import { createLogger } from '../../../core/log.js';
import { gracefulShutdown, type ShutdownStep } from '../../../server/shutdown.js';

/** A logger whose lines are kept, to see which step was forced. */
function recordingLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger({ level: 'warn', destination }), lines };
}

describe('gracefulShutdown', () => {
  const stuck = (forced: string[]): ShutdownStep => ({
    name: 'scan workers',
    close: () => new Promise<void>(() => undefined),
    force: async () => void forced.push('scan workers'),
  });
  const closingIn = (ms: number, forced: string[], minMs?: number): ShutdownStep => ({
    name: 'store and queue',
    close: () => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    force: async () => void forced.push('store and queue'),
    minMs,
  });

  it('forces a step that overruns the budget, and the next one finds the budget spent', async () => {
    const forced: string[] = [];
    const { logger } = recordingLogger();
    const clean = await gracefulShutdown([stuck(forced), closingIn(30, forced)], 50, logger);
    expect(clean).to.equal(false);
    expect(forced).to.deep.equal(['scan workers', 'store and queue']);
  });

  it('gives a step its minMs even when the steps before it used up the budget', async () => {
    const forced: string[] = [];
    const { logger, lines } = recordingLogger();
    const clean = await gracefulShutdown([stuck(forced), closingIn(30, forced, 1000)], 50, logger);
    expect(clean).to.equal(false);
    expect(forced).to.deep.equal(['scan workers']);
    expect(lines.join('')).to.include('"step":"scan workers"').and.not.include('"step":"store and queue"');
  });
});
