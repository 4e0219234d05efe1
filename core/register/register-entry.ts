/**
 * One row of the municipality's register of processed violations, validated. Pure: the file reading
 * is in register-file.ts, so rows can be tested without files.
 */
import { isPlateHash, normalisePlate, plateHash } from '../plates/plates.js';
import { parseRegisterTime } from './register-time.js';

/** A register row the matcher can use. Never holds a plate in clear. */
export interface RegisterEntry {
  /** 1-based line of the row in the file, for evidence. */
  line: number;
  /** The configured source id the row is about. */
  source: string;
  /** The object key of the image, when the back office recorded it. */
  key: string | null;
  /** The capture time; null when the row has none (it can then only match by key). */
  captureTime: Date | null;
  /** The later instant of a repeated local time (autumn DST change), also tried when matching. */
  captureTimeLater: Date | null;
  /** plateHash() of the plate, comparable with ObjectSnapshot.plateHash; null when unusable. */
  plateHash: string | null;
}

/** Something wrong or noteworthy in one row. The message never contains a plate. */
export interface RegisterProblem {
  line: number;
  /** The column (`source`, `captureTime`, `key`, `plate`), or `row` for the row as a whole. */
  field: string;
  message: string;
}

/** The raw text of the columns the register uses; absent columns are undefined. */
export interface RegisterRow {
  source?: string | undefined;
  captureTime?: string | undefined;
  key?: string | undefined;
  plate?: string | undefined;
}

/** A clear plate after normalisation: letters and digits only, as on any plate in Europe. */
const PLATE = /^[\p{L}\p{N}]{1,15}$/u;

/** `line 12, captureTime: must be ...`, for logs and scan notes. */
export function formatRegisterProblem(problem: RegisterProblem): string {
  return `register line ${problem.line}, ${problem.field}: ${problem.message}`;
}

function readPlate(
  text: string,
  plateKey: string | undefined,
  problem: (message: string) => void,
): string | null {
  if (isPlateHash(text)) {
    // A plain SHA-256 cannot be compared with HMACs of the images' plates, and cannot be turned
    // into one without the plate itself: such rows keep only their key to match by.
    if (plateKey !== undefined) {
      problem(
        'is a plain SHA-256 hash, but a plate hash key is configured, so it cannot be compared with the ' +
          "images' keyed hashes; this row can only match by key",
      );
      return null;
    }
    return text.toLowerCase();
  }
  if (!PLATE.test(normalisePlate(text))) {
    problem('is neither a plate (letters and digits, with dashes or spaces) nor a 64-character SHA-256 hash');
    return null;
  }
  return plateHash(text, plateKey);
}

/**
 * Validates one row. A bad field is reported and left out; the row is kept when it can still match
 * (by key, or by capture time and plate), and dropped with a `row` problem when it cannot.
 * @param plateKey the configured plate hash key, so clear plates hash as the images' plates do.
 */
export function parseRegisterRow(
  row: RegisterRow,
  line: number,
  timezone: string,
  plateKey?: string,
): { entry: RegisterEntry | null; problems: RegisterProblem[] } {
  const problems: RegisterProblem[] = [];
  const report = (field: string) => (message: string) => problems.push({ line, field, message });

  const source = row.source?.trim() ?? '';
  if (source === '') report('source')('is empty, so the row cannot be tied to a source and is skipped');
  const key = row.key?.trim() || null;

  let captureTime: Date | null = null;
  let captureTimeLater: Date | null = null;
  const timeText = row.captureTime?.trim() ?? '';
  if (timeText !== '') {
    const time = parseRegisterTime(timeText, timezone);
    if ('error' in time) {
      // The value is not echoed: in a shifted row this column may hold the plate.
      report('captureTime')(time.error);
    } else {
      captureTime = time.instant;
      captureTimeLater = time.later;
      if (time.note !== null) report('captureTime')(time.note);
    }
  }

  const plateText = row.plate?.trim() ?? '';
  const hash = plateText === '' ? null : readPlate(plateText, plateKey, report('plate'));

  if (source === '') return { entry: null, problems };
  if (key === null && (captureTime === null || hash === null)) {
    report('row')('cannot match any image and is skipped: it needs a key, or a capture time and a plate');
    return { entry: null, problems };
  }
  return { entry: { line, source, key, captureTime, captureTimeLater, plateHash: hash }, problems };
}
