/**
 * Masking of plate-like text. Object keys are written by the vendor and often carry the plate
 * (`2026/11/20/GX-123-B.jpg`); a viewer, the audit trail and the logs must not show it. Masking errs
 * on the side of hiding: a file name like `IMG1234` is masked too, a date or a UUID is not.
 */

/**
 * Runs of letters and digits joined by single separators people and cameras put in plates: dash,
 * underscore, space, dot, plus, middle dot, en and em dash. Not `/`, which separates a key's folders
 * (a date folder next to a plate-like name would be masked with it). Letters include accented ones
 * (German district codes such as MÜ).
 */
const CANDIDATE = /[\p{L}0-9]+(?:[-_ .+\u00B7\u2013\u2014][\p{L}0-9]+)*/gu;
const GROUP = /[\p{L}0-9]+/gu;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/**
 * File extensions, so that the dot may join plate groups (`GX.123.B`) without `123-B.jpg` or
 * `IMG_0001.jpg`'s `0001.jpg` reading as one: masked text keeps its extension.
 */
const EXTENSION =
  /\.(?:jpe?g|png|tiff?|heic|heif|webp|bmp|gif|dng|raw|json|xml|txt|csv|ndjson|pdf)(?=$|[^\p{L}0-9])/giu;

/** Plates hold 6 (Dutch) to 8 (German, Belgian, French) letters and digits. */
const MIN_CHARS = 6;
const MAX_CHARS = 8;
/** No plate format has more than 3 letters or 4 digits in a row. */
const MAX_LETTERS = 3;
const MAX_DIGITS = 4;

interface Group {
  text: string;
  start: number;
  /** The separator before this group in its candidate ('' for the first). */
  separator: string;
}

/** Separators a plate may mix (`M-AB 123`); any other must be the same throughout (`GX.123.B`). */
const MIXABLE = new Set(['-', '_', ' ']);

/**
 * Whether a window's separators read as one plate's: mixable ones only, or one other throughout, so
 * that `72.5 h old` in a reason is not one plate.
 */
function consistentSeparators(groups: Group[]): boolean {
  const separators = groups.slice(1).map((g) => g.separator);
  return separators.every((s) => MIXABLE.has(s)) || separators.every((s) => s === separators[0]);
}

const isLetters = (text: string): boolean => /^\p{L}+$/u.test(text);
const isDigits = (text: string): boolean => /^[0-9]+$/.test(text);

/** Whether runs of one kind (letters or digits) fit the plate formats and mix both kinds. */
function fitsRuns(runs: string[]): boolean {
  if (!runs.some(isLetters) || !runs.some(isDigits)) return false;
  return runs.every((run) => (isLetters(run) ? run.length <= MAX_LETTERS : run.length <= MAX_DIGITS));
}

/**
 * Whether consecutive groups read as one plate: `GX-123-B` (separated groups, each all letters or
 * all digits) or `GXB123` (one group of 2 to 3 letter/digit runs).
 */
function plateLike(groups: Group[]): boolean {
  const chars = groups.reduce((n, g) => n + g.text.length, 0);
  if (chars < MIN_CHARS || chars > MAX_CHARS) return false;
  if (groups.length === 1) {
    const runs = groups[0]!.text.match(/\p{L}+|[0-9]+/gu) ?? [];
    return runs.length >= 2 && runs.length <= 3 && fitsRuns(runs);
  }
  const texts = groups.map((g) => g.text);
  return texts.every((t) => isLetters(t) || isDigits(t)) && fitsRuns(texts);
}

/**
 * A hash (a 64-bit image hash, MD5 ETag, SHA-1, SHA-256): hex digits of one case, in one of their
 * lengths, never cut into plates. Only those lengths: a plate of B, D and F run into a time stamp
 * (`FDF20D20261120083000`) is hex too.
 */
const HEX_HASH = /^(?:[0-9a-f]+|[0-9A-F]+)$/;
const HASH_LENGTHS = new Set([16, 32, 40, 64]);

/** A run of digits no plate holds and dates, times and counters do: 6 or more. */
const STAMP = /^[0-9]{6,}$/;

/**
 * Plates written straight into a time stamp (`GX123B20261120`, `20261120T0830ZGX123B`): the group is
 * cut at runs no plate holds (more than 4 digits or 3 letters), and a piece that borders a stamp (6 or
 * more digits) is judged as a group of its own. Only there: judging every piece masked parts of one
 * ULID in seven and of one short hex id in twenty. Returns the plate-like pieces' [start, end) offsets
 * in `text`. Missed: a plate whose own digits or letters run into the neighbours' (`12ABC320261120`,
 * `kentekenGX123B`), a piece of more than 3 runs (`cam1GX123B20261120`), and a dashed plate run into a
 * stamp (`GX-123-B20261120`).
 */
function embeddedPlates(text: string): Array<[number, number]> {
  if (HASH_LENGTHS.has(text.length) && HEX_HASH.test(text)) return [];
  const found: Array<[number, number]> = [];
  let runs: string[] = [];
  let start = 0;
  /** Whether the run before the current piece is a stamp. */
  let afterStamp = false;
  const judgePiece = (beforeStamp: boolean): void => {
    const chars = runs.reduce((n, run) => n + run.length, 0);
    const plate = runs.length >= 2 && runs.length <= 3 && chars >= MIN_CHARS && chars <= MAX_CHARS;
    if (plate && (afterStamp || beforeStamp) && fitsRuns(runs)) found.push([start, start + chars]);
    runs = [];
  };
  for (const match of text.matchAll(/\p{L}+|[0-9]+/gu)) {
    const run = match[0];
    if (isLetters(run) ? run.length > MAX_LETTERS : run.length > MAX_DIGITS) {
      const stamp = STAMP.test(run);
      judgePiece(stamp);
      afterStamp = stamp;
      continue;
    }
    if (runs.length === 0) start = match.index;
    runs.push(run);
  }
  judgePiece(false);
  return found;
}

/**
 * `text` with every plate-like part's letters and digits replaced by `*`, separators kept
 * (`cam1/GX-123-B.jpg` -> `cam1/**-***-*.jpg`, `GXB123` -> `******`). Looks at windows of one to four
 * consecutive groups, so a plate inside a longer dashed name is found too, and inside one group at
 * a plate run into a time stamp (`GX123B20261120` -> `******20261120`). Pure; never throws.
 */
export function maskPlates(input: string): string {
  // Composed, so that a decomposed accent (U+0308 after U, as some clients write keys) is a letter.
  const text = input.normalize('NFC');
  // UTF-16 units, as the regex match indexes count them.
  const chars = text.split('');
  // Extensions blanked out (same length, so indexes stay those of `text`) before looking for plates.
  const searched = text.replace(EXTENSION, (ext) => '/'.repeat(ext.length));
  let hit = false;
  for (const candidate of searched.matchAll(CANDIDATE)) {
    if (UUID.test(candidate[0])) continue;
    const groups: Group[] = [...candidate[0].matchAll(GROUP)].map((m, i, all) => ({
      text: m[0],
      start: candidate.index + m.index,
      separator: i === 0 ? '' : candidate[0].slice(all[i - 1]!.index + all[i - 1]![0].length, m.index),
    }));
    for (let first = 0; first < groups.length; first++) {
      for (let count = 1; count <= 4 && first + count <= groups.length; count++) {
        const window = groups.slice(first, first + count);
        const spans: Array<[number, number]> = [];
        if (consistentSeparators(window) && plateLike(window)) {
          const last = window[window.length - 1]!;
          spans.push([window[0]!.start, last.start + last.text.length]);
        } else if (count === 1) {
          const group = window[0]!;
          for (const [from, to] of embeddedPlates(group.text))
            spans.push([group.start + from, group.start + to]);
        }
        for (const [from, to] of spans) {
          hit = true;
          for (let i = from; i < to; i++) if (/[\p{L}0-9]/u.test(chars[i]!)) chars[i] = '*';
        }
      }
    }
  }
  return hit ? chars.join('') : input;
}

/** Whether `text` holds anything {@link maskPlates} would mask. */
export function hasPlateLike(text: string): boolean {
  return maskPlates(text) !== text;
}
