/**
 * The parts of the store contract that serve the API: suppression rules, the audit trail, reports
 * and metrics. Re-exported by store.ts; kept apart so the contract stays readable.
 */
import type { FindingStatus, ScanStatus, Severity } from '../model.js';
import type { ScanDeltaKind } from './store.js';

/**
 * A suppression rule: a saved filter of an accepted situation. Findings it matches keep being found
 * and reported, marked with its id, so accepted situations stop alerting without being hidden.
 */
export interface Suppression {
  id: string;
  /** Criteria; null matches anything. At least one is set. */
  rule: string | null;
  source: string | null;
  bucket: string | null;
  keyPrefix: string | null;
  reason: string;
  expiresAt: string;
  createdBy: string;
  createdAt: string;
  revokedBy: string | null;
  revokedAt: string | null;
  /** Neither revoked nor expired when read. */
  active: boolean;
  /** Findings marked as suppressed by it now. */
  findings: number;
}

export interface SuppressionInput {
  rule?: string | null;
  source?: string | null;
  bucket?: string | null;
  keyPrefix?: string | null;
  reason: string;
  expiresAt: Date;
  createdBy: string;
}

/** One API request as the audit trail records it when it starts. */
export interface AccessInput {
  requestId: string;
  /** Token name; null when the request carried no valid token. */
  actor: string | null;
  role: string | null;
  method: string;
  /** The route pattern (`/api/v1/findings/:id`), never the raw URL. */
  route: string;
  params: Record<string, string>;
  /** The query as the caller may see it later: plate-like values masked by the caller. */
  query: Record<string, unknown>;
  client: string;
}

/** An audit-trail entry; `status` and `durationMs` are null while the request is being served. */
export interface AccessEntry extends AccessInput {
  id: string;
  at: string;
  status: number | null;
  durationMs: number | null;
}

export interface AccessFilter {
  actor?: string;
  role?: string;
  method?: string;
  route?: string;
  status?: number;
  since?: Date;
  until?: Date;
  /** 1..1000, default 100. */
  limit?: number;
  cursor?: string;
}

export interface AccessPage {
  /** Newest first. */
  items: AccessEntry[];
  nextCursor: string | null;
}

/** Findings of one rule at one source that existed during a period, counted by their current state. */
export interface ComplianceCounts {
  source: string;
  rule: string;
  /** Existed at some time in the period: first seen before its end and not remediated before its start. */
  present: number;
  open: number;
  acknowledged: number;
  resolved: number;
  falsePositive: number;
  acceptedRisk: number;
  remediated: number;
  /** Of `present`, those a suppression rule matched at their last sighting. */
  suppressed: number;
  /** First seen within the period. */
  newInPeriod: number;
  /** Found gone within the period. */
  remediatedInPeriod: number;
}

/** The scans of one source that started within a period. */
export interface SourceScanCounts {
  source: string;
  scans: number;
  completed: number;
  incomplete: number;
  failed: number;
  cancelled: number;
  running: number;
  lastCompleted: { id: string; finishedAt: string } | null;
}

export interface ComplianceData {
  findings: ComplianceCounts[];
  scans: SourceScanCounts[];
  /** Suppressions in force at some time in the period. */
  suppressions: Suppression[];
}

/** One part of a scan's delta: how many findings, and how many per rule. */
export interface DeltaCounts {
  total: number;
  byRule: Record<string, number>;
}

export type ScanDelta = Record<ScanDeltaKind, DeltaCounts>;

/** Findings not remediated, counted by rule, severity, status and suppression (for metrics). */
export interface FindingCount {
  rule: string;
  severity: Severity;
  status: FindingStatus;
  suppressed: boolean;
  count: number;
}

/** A finished scan as metrics need it. */
export interface FinishedScan {
  id: string;
  status: ScanStatus;
  startedAt: Date;
  finishedAt: Date;
  objectsListed: number;
  objectsEvaluated: number;
}
