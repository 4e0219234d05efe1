import { expect } from 'chai';
import { jpegExifExtent, jpegReachesEnd, sniffImageFormat } from '../../../core/exif/image-head.js';

function segment(marker: number, body: Buffer): Buffer {
  const header = Buffer.from([0xff, marker, 0, 0]);
  header.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([header, body]);
}
const SOI = Buffer.from([0xff, 0xd8]);
const exifBody = (size: number) => Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), Buffer.alloc(size)]);

describe('image head', () => {
  it('sniffs image formats by magic bytes and rejects text', () => {
    expect(sniffImageFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).to.equal('jpeg');
    expect(sniffImageFormat(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).to.equal('png');
    expect(sniffImageFormat(Buffer.from('II*\0rest', 'latin1'))).to.equal('tiff');
    expect(sniffImageFormat(Buffer.from('GIF89a\x01\0', 'latin1'))).to.equal('gif');
    const ftyp = (brand: string) => Buffer.from(`\0\0\0\x18ftyp${brand}\0\0\0\0`, 'latin1');
    for (const brand of ['heic', 'mif1', 'msf1', 'avif', 'avis'])
      expect(sniffImageFormat(ftyp(brand))).to.equal('heic');
    expect(sniffImageFormat(ftyp('isom')), 'an MP4 video').to.equal(null);
    expect(sniffImageFormat(Buffer.from([0xff, 0x0a, 0xfa]))).to.equal('jxl');
    expect(sniffImageFormat(Buffer.from('\0\0\0\x0cJXL \r\n\x87\n', 'latin1'))).to.equal('jxl');
    expect(sniffImageFormat(Buffer.from('\0\0\0\x0cjP  \r\n\x87\n', 'latin1'))).to.equal('jp2');
    expect(sniffImageFormat(Buffer.from('plate list\n', 'utf8'))).to.equal(null);
    expect(sniffImageFormat(Buffer.alloc(0))).to.equal(null);
  });

  it('finds the end of the EXIF segment after a JFIF segment', () => {
    const jfif = segment(0xe0, Buffer.alloc(14));
    const exif = segment(0xe1, exifBody(100));
    const head = Buffer.concat([SOI, jfif, exif, Buffer.from([0xff, 0xda, 0, 2])]);
    expect(jpegExifExtent(head)).to.deep.equal({ kind: 'exif', end: 2 + jfif.length + exif.length });
  });

  it('reports the EXIF end even when it lies past the head, so the reader can fetch more', () => {
    const exif = segment(0xe1, exifBody(60000));
    const head = Buffer.concat([SOI, exif]).subarray(0, 1024);
    expect(jpegExifExtent(head)).to.deep.equal({ kind: 'exif', end: 2 + exif.length });
  });

  it('says none when the scan starts before any EXIF', () => {
    const head = Buffer.concat([SOI, segment(0xdb, Buffer.alloc(64)), Buffer.from([0xff, 0xda, 0, 2, 1, 2])]);
    expect(jpegExifExtent(head)).to.deep.equal({ kind: 'none' });
  });

  it('asks for more when the head ends inside the marker walk', () => {
    const head = Buffer.concat([SOI, segment(0xdb, Buffer.alloc(64))]);
    expect(jpegExifExtent(head).kind).to.equal('need-more');
  });

  it('recognises garbage after SOI as corrupt', () => {
    const head = Buffer.concat([SOI, Buffer.from('this is not a marker at all', 'latin1')]);
    expect(jpegExifExtent(head).kind).to.equal('corrupt');
  });

  it('finds the end-of-image marker after the image data, padding or a trailer after it allowed', () => {
    const sos = segment(0xda, Buffer.alloc(10));
    const data = Buffer.from([0x12, 0xff, 0x00, 0x34, 0xff, 0xd0, 0x56]);
    const EOI = Buffer.from([0xff, 0xd9]);
    expect(jpegReachesEnd(Buffer.concat([SOI, sos, data, EOI]))).to.equal(true);
    expect(jpegReachesEnd(Buffer.concat([SOI, sos, data, EOI, Buffer.alloc(2)]))).to.equal(true);
    expect(jpegReachesEnd(Buffer.concat([SOI, sos, data]))).to.equal(false);
    // A thumbnail's end marker inside EXIF does not end the image that is cut after it.
    const thumbnail = Buffer.concat([exifBody(8), SOI, EOI]);
    expect(jpegReachesEnd(Buffer.concat([SOI, segment(0xe1, thumbnail), sos, data]))).to.equal(false);
  });
});
