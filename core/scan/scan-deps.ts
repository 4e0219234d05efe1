/**
 * What scanning needs from the outside, built once per process: config, store, and per source one
 * storage client, its read limit (shared by every job of that source in this process, and its
 * budget by every process, see core/queue/shared-concurrency.ts) and its request pace (shared
 * by every process, see core/queue/shared-rate.ts).
 */
import pLimit from 'p-limit';
import type { Config, SourceConfig } from '../../config/load.js';
import { sourceRef } from '../../config/load.js';
import type { Contract, RuleContext } from '../model.js';
import type { ConcurrencyShare } from '../queue/shared-concurrency.js';
import type { Store } from '../store/store.js';
import { SourceStorage, type RequestPace } from '../storage/s3-storage.js';
import { RegisterMatchers, type RegisterMatcher } from './register-matcher.js';

/** A source ready to scan: its config, its S3 client, and the limits of requests against it. */
export interface SourceHandle {
  config: SourceConfig;
  storage: SourceStorage;
  /**
   * Runs requests against this source (an object read, a listing, a discovery request) within this
   * process's share of its `concurrency`: every request to the source goes through it, so the
   * requests in flight never exceed the budget. Never call it from inside a task it runs: at a
   * budget of 1 the inner call would wait for the slot the outer one holds.
   */
  limit: RequestLimit;
  /** This process's share of the source's `concurrency`. */
  share: ConcurrencyShare;
  /**
   * Paces requests against this source (`requestsPerSecond`), when set. `storage` already paces
   * each of its requests with it; this is for requests made without it (the anonymous probes).
   */
  rate: RequestPace | null;
}

/** Runs `task` once a slot is free, holding the slot until it settles. */
export type RequestLimit = <T>(task: () => Promise<T>) => Promise<T>;

/** The process's limiter of one source's requests, as its share of the source's budget sees it. */
export interface RequestSlots {
  /** Allows this many requests in flight; 0 lets none start (the share waits for room). */
  resize(share: number): void;
  /** The requests to the source in flight now. */
  inFlight(): number;
}

/** Makes the limits a source's requests share with every other worker process. */
export interface SharedLimits {
  /** The request pace of a source that sets `requestsPerSecond`. */
  rate(source: SourceConfig & { requestsPerSecond: number }): RequestPace;
  /**
   * This process's share of the source's `concurrency`, kept by resizing the process's limiter of
   * the source's requests (`requests.resize`, 0 included), with the requests in flight counted by
   * `requests.inFlight`.
   */
  concurrency(source: SourceConfig, requests: RequestSlots): ConcurrencyShare;
}

/** Everything a scan processor needs; one per process. */
export class ScanDeps {
  private readonly handles = new Map<string, SourceHandle>();
  private readonly registers: RegisterMatchers;

  /** @param limits makes each source's request pace and concurrency share (shared through Redis). */
  constructor(
    readonly config: Config,
    readonly store: Store,
    private readonly limits: SharedLimits,
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
    const slots = pLimit(config.concurrency);
    let requesting = 0;
    const share = this.limits.concurrency(config, {
      // p-limit takes no 0: at 0 the one task it starts waits for the share below, requesting nothing.
      resize: (n) => {
        slots.concurrency = Math.max(1, n);
      },
      inFlight: () => requesting,
    });
    // The share is held while this process has requests of the source queued or in flight (and a
    // beat longer), so a process that has nothing to ask of it leaves its budget to the others.
    const limit: RequestLimit = async (task) => {
      await share.join();
      try {
        return await slots(async () => {
          await share.readable();
          requesting += 1;
          try {
            return await task();
          } finally {
            requesting -= 1;
          }
        });
      } finally {
        share.leave();
      }
    };
    const rate =
      config.requestsPerSecond === undefined
        ? null
        : this.limits.rate({ ...config, requestsPerSecond: config.requestsPerSecond });
    handle = {
      config,
      storage: new SourceStorage(
        config,
        {
          retries: this.config.scan.requestRetries,
          minTimeoutMs: this.config.scan.retryMinMs,
          maxTimeoutMs: this.config.scan.retryMaxMs,
        },
        rate,
      ),
      limit,
      share,
      rate,
    };
    this.handles.set(id, handle);
    return handle;
  }

  /** The context rules judge a source's objects in. */
  ruleContext(sourceId: string, now: Date): RuleContext {
    return { source: sourceRef(this.source(sourceId).config), contract: this.config.contract, now };
  }

  /** Closes every source's client and leaves its concurrency budget to the other processes. */
  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    for (const handle of handles) handle.storage.close();
    await Promise.all(handles.map((handle) => handle.share.close()));
  }
}
