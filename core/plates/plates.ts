/**
 * Plate normalisation and hashing. The auditor never stores or logs a plate in clear: it compares
 * hashes. Both the image side (EXIF) and the register side hash with these two functions, so a plate
 * written `ab-123-c` on one side and `AB 123 C` on the other compares equal.
 */
import { createHash, createHmac } from 'node:crypto';

/** Spaces of any kind and dash-like characters that people and cameras put between plate groups. */
const SEPARATORS = /[\s\-\u2010-\u2015\u2212]/gu;

/**
 * The plate as compared: upper case, without spaces or dashes (`ab-123-c` -> `AB123C`).
 * Other characters are kept, so foreign plates with letters outside A-Z still hash consistently.
 */
export function normalisePlate(plate: string): string {
  return plate.replace(SEPARATORS, '').toUpperCase();
}

/**
 * The lower-case hex SHA-256 of the normalised plate, or its HMAC-SHA-256 when `key` is given.
 * A keyed hash is what should be used in production: the space of Dutch plates is small enough
 * that a plain SHA-256 can be reversed by trying them all, an HMAC cannot without the key.
 * @throws RangeError when the plate is empty after normalisation (an empty plate would match every
 *   other empty plate) or the key is an empty string (almost certainly a configuration mistake).
 *   The message never contains the plate.
 */
export function plateHash(plate: string, key?: string): string {
  const normalised = normalisePlate(plate);
  if (normalised === '') throw new RangeError('plate is empty after normalisation');
  if (key === undefined) return createHash('sha256').update(normalised, 'utf8').digest('hex');
  if (key === '') throw new RangeError('plate hash key must not be empty');
  return createHmac('sha256', key).update(normalised, 'utf8').digest('hex');
}

/** Whether a value already is a plate hash as {@link plateHash} writes it (64 hex characters). */
export function isPlateHash(value: string): boolean {
  return /^[0-9a-fA-F]{64}$/.test(value);
}
