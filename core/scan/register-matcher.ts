/**
 * The municipality's register of violations as a matcher for the scan: read once per process and
 * source, read again when the file changes. Problems in the file become scan notes.
 */
import { statSync } from 'node:fs';
import type { RegisterMatch } from '../model.js';
import { readRegister } from '../register/register-file.js';
import { buildRegisterIndex, matchRegister } from '../register/register-match.js';
import type { ObjectState } from '../store/store.js';
import type { ListedObject } from '../storage/s3-storage.js';

export type RegisterMatcher = (state: ObjectState, listed: ListedObject) => RegisterMatch;

interface Cached {
  mtimeMs: number;
  matcher: RegisterMatcher;
  problems: string[];
}

/** Loads and caches registers by path. */
export class RegisterMatchers {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly timezone: string,
    private readonly plateHashKey: string | undefined,
  ) {}

  /**
   * The matcher for a register file.
   * @throws Error when the file cannot be read or lacks the needed columns: a scan that cannot
   *   consult the register cannot judge violations-only, so the bucket job fails (and retries).
   */
  get(path: string, sourceId: string): { matcher: RegisterMatcher; problems: string[] } {
    const mtimeMs = statSync(path).mtimeMs;
    let cached = this.cache.get(path);
    if (!cached || cached.mtimeMs !== mtimeMs) {
      const { entries, problems } = readRegister(path, this.timezone, this.plateHashKey);
      const index = buildRegisterIndex(entries);
      cached = {
        mtimeMs,
        problems: problems.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))),
        matcher: (state, listed) =>
          matchRegister(index, {
            source: sourceId,
            key: listed.key,
            captureTime: state.captureTimeOrigin === 'last-modified' ? null : state.captureTime,
            plateHash: state.plateHash,
          }),
      };
      this.cache.set(path, cached);
    }
    return { matcher: cached.matcher, problems: cached.problems };
  }
}
