/**
 * Text tags as cameras write them: junk after a NUL terminator (which PostgreSQL cannot store), and
 * UserComment with its character code, as ASCII or as UTF-16 in either byte order.
 */
import { expect } from 'chai';
import { readExif, readTextTag } from '../../../core/exif/exif-reader.js';
import {
  asciiEntry,
  EXIF_TAG,
  jpegWithExifEntries,
  userCommentEntry,
} from '../../../fixtures/exif-entries.js';

const TIME = asciiEntry(EXIF_TAG.DateTimeOriginal, '2026:11:20 08:30:00');
const FLAGS = JSON.stringify({ violation: true, plate: 'GX-123-B' });

describe('EXIF text tags', () => {
  it('ends a text at its first NUL, dropping what follows the terminator', async () => {
    const facts = await readExif(
      jpegWithExifEntries({
        ifd0: [
          asciiEntry(EXIF_TAG.Make, 'ARS\0xyz'),
          asciiEntry(EXIF_TAG.Model, 'Hikvision\0\u00a0\u00ff'),
          asciiEntry(EXIF_TAG.ImageDescription, `${FLAGS}\0\0garbage`),
        ],
        exif: [TIME],
      }),
    );
    expect(facts!.make).to.equal('ARS');
    expect(facts!.model).to.equal('Hikvision');
    expect(readTextTag(facts!, 'ImageDescription.violation')).to.equal('true');
    for (const text of Object.values(facts!.text)) expect(text).to.not.include('\0');
  });

  for (const byteOrder of ['II', 'MM'] as const) {
    it(`reads UserComment by its EXIF name, ASCII and UNICODE (${byteOrder} file)`, async () => {
      for (const code of ['ASCII', 'UNICODE'] as const) {
        const facts = await readExif(
          jpegWithExifEntries({ byteOrder, exif: [TIME, userCommentEntry(code, FLAGS, byteOrder)] }),
        );
        expect(facts!.text.UserComment, code).to.equal(FLAGS);
        expect(readTextTag(facts!, 'UserComment.violation'), code).to.equal('true');
        expect(readTextTag(facts!, 'UserComment.plate'), code).to.equal('GX-123-B');
        expect(facts!.dateTimeOriginal).to.equal('2026:11:20 08:30:00');
      }
    });
  }

  it('reads a UNICODE UserComment with a byte-order mark, and non-Latin text', async () => {
    const text = 'Überschreitung 東京';
    const bom = Buffer.concat([Buffer.from('UNICODE\0', 'latin1'), Buffer.from([0xfe, 0xff])]);
    const body = Buffer.from(text, 'utf16le').swap16();
    const facts = await readExif(
      jpegWithExifEntries({
        byteOrder: 'II',
        exif: [TIME, { tag: EXIF_TAG.UserComment, type: 7, data: Buffer.concat([bom, body]) }],
      }),
    );
    expect(facts!.text.UserComment).to.equal(text);
  });

  it('reads a UNICODE UserComment without a byte-order mark in the byte order of its file', async () => {
    // Non-Latin text has no zero high bytes to tell the order by: the TIFF header tells it.
    const text = '東京違反';
    for (const byteOrder of ['II', 'MM'] as const) {
      const facts = await readExif(
        jpegWithExifEntries({ byteOrder, exif: [TIME, userCommentEntry('UNICODE', text, byteOrder)] }),
      );
      expect(facts!.text.UserComment, byteOrder).to.equal(text);
    }
  });
});
