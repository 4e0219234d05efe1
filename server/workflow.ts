/**
 * The officers' workflow on findings: open -> acknowledged -> resolved | false-positive |
 * accepted-risk, and back to open (reopen) from any decision or from remediated. Each step needs a
 * comment; accepted-risk needs the date until which the risk is accepted (a scan that sees the
 * finding after that date reopens it).
 */
import { FINDING_STATUSES, type FindingStatus } from '../core/model.js';

/**
 * Longest an accepted situation (a suppression, an accepted risk) may stand before someone has to
 * look at it again, in days.
 */
export const MAX_ACCEPTANCE_DAYS = 366;

/** The statuses an officer may set (`remediated` is for scans to decide). */
export type OfficerStatus = Exclude<FindingStatus, 'remediated'>;

/** Where each status may go next by an officer's decision. */
export const TRANSITIONS: Readonly<Record<FindingStatus, readonly OfficerStatus[]>> = {
  open: ['acknowledged'],
  acknowledged: ['resolved', 'false-positive', 'accepted-risk', 'open'],
  resolved: ['open'],
  'false-positive': ['open'],
  'accepted-risk': ['open'],
  remediated: ['open'],
};

/** The statuses from which `to` may be set. */
export function allowedFrom(to: OfficerStatus): FindingStatus[] {
  return FINDING_STATUSES.filter((from) => TRANSITIONS[from].includes(to));
}

/** Whether an officer may move a finding from `from` to `to`. */
export function canMove(from: FindingStatus, to: OfficerStatus): boolean {
  return TRANSITIONS[from].includes(to);
}
