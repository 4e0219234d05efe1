/**
 * Regression: exifr keeps every distinct options object it is given in a module-level cache, so
 * the reader must pass one constant object (a fresh literal per call leaked ~7 KB per image).
 */
import { expect } from 'chai';
import { readExif } from '../../../core/exif/exif-reader.js';
import { generateCameraImage } from '../../../fixtures/camera-image.js';

describe('EXIF reader memory', () => {
  it('does not keep memory per parsed image', async function () {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('run mocha with --expose-gc (see .mocharc.json)');
    const head = await generateCameraImage({ width: 160, height: 120, captureTime: '2026:11:20 08:30:00' });
    for (let i = 0; i < 300; i += 1) await readExif(head);
    gc();
    const before = process.memoryUsage().heapUsed;
    for (let i = 0; i < 3000; i += 1) await readExif(head);
    gc();
    // The leak was ~20 MB for 3000 parses; allow a little noise.
    expect(process.memoryUsage().heapUsed - before).to.be.below(3_000_000);
  });
});
