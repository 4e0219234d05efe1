/**
 * What scanning needs from the outside, built once per process: config, store, one storage client
 * and one concurrency limit per source (shared by every job of that source in this process).
 */
import pLimit, { type LimitFunction } from 'p-limit';
import pThrottle from 'p-throttle';
import type { Config, SourceConfig } from '../../config/load.js';
import { sourceRef } from '../../config/load.js';
import type { Contract, RuleContext } from '../model.js';
import type { Store } from '../store/store.js';
import { SourceStorage } from '../storage/s3-storage.js';
import { RegisterMatchers, type RegisterMatcher } from './register-matcher.js';

/** A source ready to scan: its config, its S3 client, and the limits of reads against it. */
export interface SourceHandle {
  config: SourceConfig;
  storage: SourceStorage;
  /** Bounds parallel reads against this source (`concurrency`). */
  limit: LimitFunction;
  /** Paces requests against this source (`requestsPerSecond`), when set. */
  rate: (() => Promise<void>) | null;
}

/** p-throttle takes whole requests per interval: 0.5/s becomes 1 per 2 s. */
function throttleFor(requestsPerSecond: number): { limit: number; interval: number } {
  return requestsPerSecond >= 1
    ? { limit: Math.floor(requestsPerSecond), interval: 1000 }
    : { limit: 1, interval: Math.round(1000 / requestsPerSecond) };
}

/** Everything a scan processor needs; one per process. */
export class ScanDeps {
  private readonly handles = new Map<string, SourceHandle>();
  private readonly registers: RegisterMatchers;

  constructor(
    readonly config: Config,
    readonly store: Store,
  ) {
    this.registers = new RegisterMatchers(config.contract.timezone, config.plateHashKey);
  }

  /** The register matcher of a source, or undefined when the source has no register. */
  registerMatcher(sourceId: string): RegisterMatcher | undefined {
    const path = this.source(sourceId).config.register;
    return path === undefined ? undefined : this.registers.get(path, sourceId).matcher;
  }

  get contract(): Contract {
    return this.config.contract;
  }

  /** The source with this id, or a thrown Error naming it (a job for a source removed from config). */
  source(id: string): SourceHandle {
    let handle = this.handles.get(id);
    if (handle) return handle;
    const config = this.config.sources.find((s) => s.id === id);
    if (!config) throw new Error(`source "${id}" is not in the configuration`);
    handle = {
      config,
      storage: new SourceStorage(config, {
        retries: this.config.scan.requestRetries,
        minTimeoutMs: this.config.scan.retryMinMs,
        maxTimeoutMs: this.config.scan.retryMaxMs,
      }),
      limit: pLimit(config.concurrency),
      rate:
        config.requestsPerSecond === undefined
          ? null
          : pThrottle(throttleFor(config.requestsPerSecond))(async () => undefined),
    };
    this.handles.set(id, handle);
    return handle;
  }

  /** The context rules judge a source's objects in. */
  ruleContext(sourceId: string, now: Date): RuleContext {
    return { source: sourceRef(this.source(sourceId).config), contract: this.config.contract, now };
  }

  close(): void {
    for (const handle of this.handles.values()) handle.storage.close();
    this.handles.clear();
  }
}
