import { expect } from 'chai';
import { RefusalGate, REFUSALS_TO_CLOSE, SAMPLE_EVERY } from '../../../core/scan/refusal-gate.js';

/** Refuses `n` reads through the gate (each one read first); returns the last change. */
function refuse(gate: RefusalGate, n: number) {
  let change = null;
  for (let i = 0; i < n; i += 1) {
    expect(gate.shouldRead()).to.equal(true);
    change = gate.record('refused');
  }
  return change;
}

/** Which of the next `n` objects the gate lets through (1-based positions). */
function readPositions(gate: RefusalGate, n: number): number[] {
  const read: number[] = [];
  for (let i = 1; i <= n; i += 1) if (gate.shouldRead()) read.push(i);
  return read;
}

describe('RefusalGate', () => {
  it('lets every read through until the storage refuses REFUSALS_TO_CLOSE in a row', () => {
    const gate = new RefusalGate();
    expect(refuse(gate, REFUSALS_TO_CLOSE - 1)).to.equal(null);
    expect(gate.record('read')).to.equal(null);
    // A read served in between starts the count again.
    expect(refuse(gate, REFUSALS_TO_CLOSE - 1)).to.equal(null);
    expect(gate.shouldRead()).to.equal(true);
    expect(gate.record('refused')).to.equal('closed');
  });

  it('once closed, reads the 1st, 2nd, 4th ... 64th object, then one in SAMPLE_EVERY', () => {
    const gate = new RefusalGate();
    refuse(gate, REFUSALS_TO_CLOSE);
    const read = readPositions(gate, 3 * SAMPLE_EVERY);
    expect(read).to.deep.equal([1, 2, 4, 8, 16, 32, 64, SAMPLE_EVERY, 2 * SAMPLE_EVERY, 3 * SAMPLE_EVERY]);
    // Refused samples keep it closed: no second 'closed'.
    expect(gate.record('refused')).to.equal(null);
    expect(gate.shouldRead()).to.equal(false);
  });

  it('opens at the first read served, and closes again only after a new run of refusals', () => {
    const gate = new RefusalGate();
    refuse(gate, REFUSALS_TO_CLOSE);
    expect(gate.record('read')).to.equal('opened');
    expect(readPositions(gate, 10)).to.have.length(10);
    expect(refuse(gate, REFUSALS_TO_CLOSE)).to.equal('closed');
    // Closed anew: the sampling starts over at the 1st object.
    expect(readPositions(gate, 4)).to.deep.equal([1, 2, 4]);
  });

  it('ignores outcomes that say nothing of refusals (deleted objects, transient failures)', () => {
    const gate = new RefusalGate();
    refuse(gate, REFUSALS_TO_CLOSE - 1);
    expect(gate.record('other')).to.equal(null);
    expect(gate.record('refused')).to.equal('closed');
    expect(gate.record('other')).to.equal(null);
    expect(gate.shouldRead()).to.equal(true);
    expect(gate.shouldRead()).to.equal(true);
    expect(gate.shouldRead()).to.equal(false);
  });
});
