import { expect } from 'chai';
import { walkWebpChunks, webpFileEnd } from '../../../core/exif/webp-chunks.js';

/** A RIFF chunk: code, little-endian size, data, a pad byte when the size is odd. */
function chunk(code: string, data: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(code, 'latin1');
  header.writeUInt32LE(data.length, 4);
  return Buffer.concat([header, data, Buffer.alloc(data.length % 2)]);
}

function webp(...chunks: Buffer[]): Buffer {
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), ...chunks]);
  const header = Buffer.alloc(8);
  header.write('RIFF', 'latin1');
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body]);
}

const vp8x = (flags: number) => chunk('VP8X', Buffer.from([flags, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
const TIFF = Buffer.from('II*\0\x08\0\0\0', 'latin1');

describe('WebP chunks', () => {
  it('says a simple WebP, or an extended one without the EXIF flag, has no EXIF', () => {
    const simple = webp(chunk('VP8 ', Buffer.alloc(1001)));
    expect(walkWebpChunks(simple, 0, 12, simple.length)).to.deep.equal({ kind: 'none' });
    const noFlag = webp(vp8x(0x10), chunk('VP8 ', Buffer.alloc(100)), chunk('EXIF', TIFF));
    expect(walkWebpChunks(noFlag, 0, 12, noFlag.length)).to.deep.equal({ kind: 'none' });
  });

  it('finds the EXIF chunk after the image data, skipping an "Exif\\0\\0" prefix and odd padding', () => {
    const file = webp(
      vp8x(0x08),
      chunk('VP8 ', Buffer.alloc(1001)),
      chunk('EXIF', Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), TIFF])),
    );
    const step = walkWebpChunks(file, 0, 12, file.length);
    expect(step.kind).to.equal('exif');
    if (step.kind !== 'exif') return;
    expect(file.subarray(step.start, step.end).equals(TIFF)).to.equal(true);
  });

  it('asks for the chunk header or the EXIF chunk that lies outside the bytes in hand', () => {
    const file = webp(vp8x(0x08), chunk('VP8 ', Buffer.alloc(50_000)), chunk('EXIF', TIFF));
    const head = file.subarray(0, 4096);
    const exifAt = 12 + 18 + 8 + 50_000;
    expect(walkWebpChunks(head, 0, 12, file.length)).to.deep.equal({
      kind: 'need-more',
      at: exifAt,
      atLeast: 8,
    });
    // Given only the header of the EXIF chunk, it asks for the whole chunk.
    const header = file.subarray(exifAt, exifAt + 8);
    expect(walkWebpChunks(header, exifAt, exifAt, file.length)).to.deep.equal({
      kind: 'need-more',
      at: exifAt,
      atLeast: 8 + TIFF.length,
    });
    const whole = file.subarray(exifAt);
    expect(walkWebpChunks(whole, exifAt, exifAt, file.length)).to.deep.equal({
      kind: 'exif',
      start: exifAt + 8,
      end: exifAt + 8 + TIFF.length,
    });
  });

  it('calls a chunk that ends past the file, or a first chunk of another kind, corrupt', () => {
    const file = webp(vp8x(0x08), chunk('VP8 ', Buffer.alloc(100)));
    expect(walkWebpChunks(file, 0, 12, file.length - 10).kind).to.equal('corrupt');
    const odd = webp(chunk('JUNK', Buffer.alloc(4)));
    expect(walkWebpChunks(odd, 0, 12, odd.length)).to.deep.equal({
      kind: 'corrupt',
      why: 'first chunk is "JUNK", not VP8/VP8L/VP8X',
    });
    expect(webpFileEnd(file, 1 << 20)).to.equal(file.length);
  });
});
