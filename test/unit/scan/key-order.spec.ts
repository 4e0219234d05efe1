import { expect } from 'chai';
import { byteOrder, keyOrderProblem } from '../../../core/scan/key-order.js';
import type { ListedObject } from '../../../core/storage/s3-storage.js';

const listed = (...keys: string[]): ListedObject[] =>
  keys.map((key) => ({ key, etag: 'e', size: 1, lastModified: new Date(0) }));

describe('keyOrderProblem', () => {
  it('accepts keys in UTF-8 byte order after the start, as S3 lists them', () => {
    expect(keyOrderProblem(listed('cam-2/a.jpg', 'cam/a.jpg', 'cam/b.jpg'), null)).to.equal(null);
    // U+FF5E sorts before U+1F600 in UTF-8 bytes, after it in UTF-16 units.
    expect(keyOrderProblem(listed('a\uff5e', 'a\u{1f600}'), 'a')).to.equal(null);
    expect(keyOrderProblem(listed(), 'z')).to.equal(null);
  });

  it('names the first key out of place: a decrease, a repeat, or a key not after the start', () => {
    expect(keyOrderProblem(listed('cam/a.jpg', 'cam-2/a.jpg'), null)).to.equal(
      'key "cam-2/a.jpg" follows "cam/a.jpg"',
    );
    expect(keyOrderProblem(listed('a', 'b', 'b'), null)).to.equal('key "b" follows "b"');
    expect(keyOrderProblem(listed('m'), 'm')).to.equal('key "m" follows "m"');
    expect(keyOrderProblem(listed('a\u{1f600}', 'a\uff5e'), null)).to.match(/^key "a\uff5e" follows/);
  });
});

describe('byteOrder', () => {
  it('orders keys as their UTF-8 bytes do, without encoding them', () => {
    const keys = [
      '',
      'a',
      'a ',
      'a!',
      'a-b',
      'a/b',
      'a0',
      'aA',
      'a~',
      'a\u007f',
      'a\u00e9',
      'a\u0800',
      'a\ud7ff',
      'a\ue000',
      'a\uff5e',
      'a\uffff',
      'a\u{10000}',
      'a\u{1f600}',
      'a\u{1f600}b',
      'a\u{10ffff}',
      "'s-Hertogenbosch",
    ];
    const bytes = (x: string, y: string) => Math.sign(Buffer.compare(Buffer.from(x), Buffer.from(y)));
    for (const x of keys)
      for (const y of keys) expect(Math.sign(byteOrder(x, y)), `${x} ? ${y}`).to.equal(bytes(x, y));
  });
});
