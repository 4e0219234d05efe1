/**
 * The only code that imports `exifr`. Reads EXIF from the head of an image into plain values and
 * turns the capture time into an instant. exifr's own revived `Date` is built in the process's zone
 * and ignores OffsetTimeOriginal, so we read the raw strings (`reviveValues: false`) and parse them.
 */
import exifr from 'exifr';
import type { CaptureTimeOrigin } from '../model.js';
import { resolveLocalTime } from '../time/local-time.js';

/** The EXIF values the auditor uses, as raw as exifr gives them (strings where EXIF has text). */
export interface ExifFacts {
  /** Set when a block that should hold the capture time broke (exifr's `errors`); the rest was read. */
  parseError?: string | null;
  dateTimeOriginal: string | null;
  subSecTimeOriginal: string | null;
  offsetTimeOriginal: string | null;
  make: string | null;
  model: string | null;
  /** Every text tag found in IFD0/EXIF, by exifr's tag name (ImageDescription, UserComment...). */
  text: Record<string, string>;
}

/** A capture time read from EXIF, with where it came from and the raw text for evidence. */
export interface ExifCaptureTime {
  instant: Date;
  origin: Exclude<CaptureTimeOrigin, 'last-modified'>;
  raw: string;
}

/** Thrown when the bytes hold EXIF that exifr cannot parse (not when they hold none). */
export class ExifParseError extends Error {
  override name = 'ExifParseError';
}

/**
 * EXIF text as a string: up to its first NUL (EXIF strings are NUL-terminated, and whatever follows
 * the terminator is junk that PostgreSQL cannot store), trimmed; null when empty.
 */
function asText(value: unknown, byteOrder: ByteOrder | null = null): string | null {
  if (typeof value === 'string') return value.split('\0', 1)[0]!.trim() || null;
  if (value instanceof Uint8Array) return userCommentText(Buffer.from(value), byteOrder);
  return null;
}

type ByteOrder = 'II' | 'MM';

/**
 * The TIFF byte order of the EXIF in `bytes`: a TIFF (or a WebP's EXIF chunk) starts with it, a
 * JPEG's APP1 segment has it right after "Exif\0\0". Null when neither shows it.
 */
function tiffByteOrder(bytes: Buffer): ByteOrder | null {
  const at = (i: number): ByteOrder | null => {
    const mark = bytes.subarray(i, i + 2).toString('latin1');
    return mark === 'II' || mark === 'MM' ? mark : null;
  };
  const start = at(0);
  if (start) return start;
  const exif = bytes.indexOf('Exif\0\0', 0, 'latin1');
  return exif === -1 ? null : at(exif + 6);
}

/**
 * UserComment's text: an 8-byte character code ("ASCII", "UNICODE", "JIS" or none), then the text.
 * UNICODE is UTF-16 in the file's byte order, which exifr does not pass on: a byte-order mark says
 * it, else the TIFF header's order, else the zero bytes of Latin characters.
 */
function userCommentText(bytes: Buffer, byteOrder: ByteOrder | null): string | null {
  const code = bytes.subarray(0, 8).toString('latin1').replace(/\0+$/, '');
  const known = code === 'ASCII' || code === 'UNICODE' || code === 'JIS' || code === '';
  const body = known && bytes.length >= 8 ? bytes.subarray(8) : bytes;
  let text: string;
  if (code === 'UNICODE') text = utf16Text(body, byteOrder);
  else text = body.toString('utf8');
  return text.split('\0', 1)[0]!.trim() || null;
}

function utf16Text(body: Buffer, byteOrder: ByteOrder | null): string {
  const even = body.length - (body.length % 2);
  if (body[0] === 0xff && body[1] === 0xfe) return body.subarray(2, even).toString('utf16le');
  let bigEndian = body[0] === 0xfe && body[1] === 0xff;
  const start = bigEndian ? 2 : 0;
  if (!bigEndian && byteOrder !== null) bigEndian = byteOrder === 'MM';
  else if (!bigEndian) {
    let zeroFirst = 0;
    let zeroSecond = 0;
    for (let i = 0; i + 1 < even; i += 2) {
      if (body[i] === 0 && body[i + 1] !== 0) zeroFirst++;
      if (body[i + 1] === 0 && body[i] !== 0) zeroSecond++;
    }
    bigEndian = zeroFirst > zeroSecond;
  }
  const units = Buffer.from(body.subarray(start, even));
  if (bigEndian) units.swap16();
  return units.toString('utf16le');
}

/** exifr's keys that are not the EXIF tag's name: UserComment comes out as `userComment`. */
const TAG_NAMES: Record<string, string> = { userComment: 'UserComment' };

/**
 * One options object for every parse: exifr caches its parsed Options by object identity in a
 * module-level map that is never emptied, so a fresh literal per call leaks ~7 KB per image
 * (measured by the benchmark: +650 MB over 100 000 objects).
 */
export const EXIFR_OPTIONS = {
  reviveValues: false,
  translateValues: false,
  mergeOutput: true,
  tiff: true,
  ifd0: {},
  exif: true,
  gps: false,
  ifd1: false,
  interop: false,
  makerNote: false,
  userComment: true,
  xmp: false,
  icc: false,
  iptc: false,
  jfif: false,
  ihdr: false,
} as const;

/**
 * Parses EXIF (IFD0 + EXIF IFD only: no thumbnails, no GPS, no maker notes) from image bytes.
 * @returns null when the bytes carry no EXIF at all; `parseError` set when a block broke.
 * @throws ExifParseError when EXIF is present but cannot be parsed at all.
 */
export async function readExif(head: Buffer): Promise<ExifFacts | null> {
  let raw: Record<string, unknown> | undefined;
  try {
    raw = await exifr.parse(head, EXIFR_OPTIONS);
  } catch (error) {
    throw new ExifParseError(`EXIF cannot be parsed: ${(error as Error).message}`);
  }
  if (raw === undefined || raw === null) return null;
  // exifr keeps going past a broken block and lists what broke under `errors`: without a capture
  // time left to read, that is EXIF that cannot be parsed, not EXIF that is absent. What the other
  // blocks held (a plate, a flag) is kept all the same.
  const errors = Array.isArray(raw.errors) ? (raw.errors as unknown[]) : [];
  const parseError =
    errors.length > 0 && asText(raw.DateTimeOriginal) === null
      ? `EXIF cannot be parsed: ${String((errors[0] as Error)?.message ?? errors[0])}`
      : null;
  const byteOrder = tiffByteOrder(head);
  const text: Record<string, string> = {};
  for (const [name, value] of Object.entries(raw)) {
    const asString = asText(value, byteOrder);
    if (asString !== null && typeof name === 'string') text[TAG_NAMES[name] ?? name] = asString;
  }
  return {
    parseError,
    dateTimeOriginal: asText(raw.DateTimeOriginal),
    subSecTimeOriginal: asText(raw.SubSecTimeOriginal),
    offsetTimeOriginal: asText(raw.OffsetTimeOriginal),
    make: asText(raw.Make),
    model: asText(raw.Model),
    text,
  };
}

const EXIF_DATE = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})$/;
const EXIF_OFFSET = /^[+-](?:[01]\d|2[0-3]):[0-5]\d$/;

/**
 * The capture time of an image: DateTimeOriginal (+ SubSecTimeOriginal) at OffsetTimeOriginal when
 * present (`exif-offset`), otherwise as local time in `timezone` with its DST rules (`exif-local`).
 * @returns null when there is no usable DateTimeOriginal (absent, blank `    :  :  ` or invalid).
 */
export function captureTimeFromExif(facts: ExifFacts, timezone: string): ExifCaptureTime | null {
  const match = facts.dateTimeOriginal ? EXIF_DATE.exec(facts.dateTimeOriginal) : null;
  if (!match) return null;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  // SubSecTimeOriginal holds decimal digits of the fraction: "25" is 0.25 s, "250" too.
  const subSec =
    facts.subSecTimeOriginal && /^\d+$/.test(facts.subSecTimeOriginal) ? facts.subSecTimeOriginal : null;
  const millisecond = subSec ? Math.floor(Number(`0.${subSec}`) * 1000) : 0;
  const raw = `${facts.dateTimeOriginal}${subSec ? `.${subSec}` : ''}`;
  const offset =
    facts.offsetTimeOriginal && EXIF_OFFSET.test(facts.offsetTimeOriginal) ? facts.offsetTimeOriginal : null;

  if (offset) {
    // A fixed offset needs no zone rules: plain arithmetic (this runs for every image).
    const sign = offset.startsWith('-') ? -1 : 1;
    const offsetMs = sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6))) * 60_000;
    const wall = Date.UTC(year, month - 1, day, hour, minute, second, millisecond);
    const check = new Date(wall);
    if (
      check.getUTCMonth() !== month - 1 ||
      check.getUTCDate() !== day ||
      hour > 23 ||
      minute > 59 ||
      second > 59
    ) {
      return null;
    }
    return { instant: new Date(wall - offsetMs), origin: 'exif-offset', raw: `${raw} ${offset}` };
  }
  const local = resolveLocalTime({ year, month, day, hour, minute, second, millisecond }, timezone);
  if (!local) return null;
  return { instant: local.instant, origin: 'exif-local', raw };
}

/**
 * Reads a text tag, optionally a field of JSON inside it (`ImageDescription.violation`).
 * @returns the value as a string, or null when the tag, the JSON or the field is absent.
 */
export function readTextTag(facts: ExifFacts, path: string): string | null {
  const [tag, field] = path.split('.', 2) as [string, string | undefined];
  const text = facts.text[tag];
  if (text === undefined) return null;
  if (field === undefined) return text;
  const parsed = parsedTag(facts, tag, text);
  if (parsed && typeof parsed === 'object' && field in parsed) {
    const value = (parsed as Record<string, unknown>)[field];
    return value === null || value === undefined ? null : String(value);
  }
  return null;
}

/** JSON of text tags, parsed once per image: the violation flag and the plate often share one tag. */
const parsedTags = new WeakMap<ExifFacts, Map<string, unknown>>();

/** The tag's text as JSON, or undefined when it is not JSON (then it says nothing about any field). */
function parsedTag(facts: ExifFacts, tag: string, text: string): unknown {
  let tags = parsedTags.get(facts);
  if (!tags) parsedTags.set(facts, (tags = new Map()));
  if (!tags.has(tag)) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    tags.set(tag, parsed);
  }
  return tags.get(tag);
}
