/**
 * What scanning needs from the outside, built once per process: config, store, one storage client
 * and one concurrency limit per source (shared by every job of that source in this process), and
 * its request-rate gate (shared by every process, see core/queue/shared-rate.ts).
 */
import pLimit, { type LimitFunction } from 'p-limit';
import type { Config, SourceConfig } from '../../config/load.js';
import { sourceRef } from '../../config/load.js';
import type { Contract, RuleContext } from '../model.js';
import type { RateGate } from '../queue/shared-rate.js';
import type { Store } from '../store/store.js';
import { SourceStorage } from '../storage/s3-storage.js';
import { RegisterMatchers, type RegisterMatcher } from './register-matcher.js';

/** A source ready to scan: its config, its S3 client, and the limits of reads against it. */
export interface SourceHandle {
  config: SourceConfig;
  storage: SourceStorage;
  /** Bounds parallel reads against this source in this process (`concurrency`). */
  limit: LimitFunction;
  /** Paces requests against this source (`requestsPerSecond`), when set. */
  rate: RateGate | null;
}

/** Makes the rate gate of a source that sets `requestsPerSecond`. */
export type RateGateFactory = (source: SourceConfig & { requestsPerSecond: number }) => RateGate;

/** Everything a scan processor needs; one per process. */
export class ScanDeps {
  private readonly handles = new Map<string, SourceHandle>();
  private readonly registers: RegisterMatchers;

  /** @param rateGate makes each rate-limited source's gate (shared through Redis by the workers). */
  constructor(
    readonly config: Config,
    readonly store: Store,
    private readonly rateGate: RateGateFactory,
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
          : this.rateGate({ ...config, requestsPerSecond: config.requestsPerSecond }),
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
