/**
 * Report building, apart from the routes: the compliance summary from the store's counts, the CSV
 * rows of reports and exports, and the paging loop that streams an export.
 */
import type { Response } from 'express';
import { stringify } from 'csv-stringify/sync';
import type { Config } from '../config/load.js';
import type { Finding, Severity } from '../core/model.js';
import { allRules } from '../core/rules/registry.js';
import type {
  ComplianceCounts,
  ComplianceData,
  FindingFilter,
  SourceScanCounts,
  Store,
} from '../core/store/store.js';
import type { z } from 'zod';
import type { Principal } from './auth.js';
import type { ComplianceReportSchema } from './openapi/schemas.js';
import { findingView, suppressionView } from './views.js';

export type ComplianceReport = z.infer<typeof ComplianceReportSchema>;

const NO_SCANS: Omit<SourceScanCounts, 'source'> = {
  scans: 0,
  completed: 0,
  incomplete: 0,
  failed: 0,
  cancelled: 0,
  running: 0,
  lastCompleted: null,
};

const NO_FINDINGS: Omit<ComplianceCounts, 'source' | 'rule'> = {
  present: 0,
  open: 0,
  acknowledged: 0,
  resolved: 0,
  falsePositive: 0,
  acceptedRisk: 0,
  remediated: 0,
  suppressed: 0,
  newInPeriod: 0,
  remediatedInPeriod: 0,
};

type Verdict = ComplianceReport['sources'][number]['rules'][number]['verdict'];

function verdictOf(counts: ComplianceCounts, completedScans: number): Verdict {
  if (counts.present - counts.falsePositive > 0) return 'non-compliant';
  return completedScans > 0 ? 'compliant' : 'not-verified';
}

/**
 * The compliance summary: per source (configured ones, plus any the store still holds findings of),
 * per rule, the findings of the period and a verdict. A rule is `non-compliant` when any finding not
 * judged a false positive existed in the period (suppressed and accepted ones included: accepting a
 * deviation does not make it compliant), `compliant` when none did and a scan of the source completed
 * in the period, and `not-verified` otherwise.
 */
export function buildComplianceReport(
  data: ComplianceData,
  config: Config,
  period: { from: Date; to: Date; sources?: string[] },
  generatedAt: Date,
  principal: Principal,
): ComplianceReport {
  const configured = config.sources.map((s) => s.id);
  const ids = new Set([
    ...configured,
    ...data.findings.map((f) => f.source),
    ...data.scans.map((s) => s.source),
  ]);
  const wanted = [...ids].filter((id) => !period.sources || period.sources.includes(id)).sort();
  const meta = new Map(allRules.map((r) => [r.meta.id, r.meta]));
  const sources = wanted.map((source) => {
    const scans = data.scans.find((s) => s.source === source) ?? { source, ...NO_SCANS };
    const found = data.findings.filter((f) => f.source === source);
    const ruleIds = [...new Set([...allRules.map((r) => r.meta.id), ...found.map((f) => f.rule)])];
    return {
      source,
      configured: configured.includes(source),
      scans: {
        total: scans.scans,
        completed: scans.completed,
        incomplete: scans.incomplete,
        failed: scans.failed,
        cancelled: scans.cancelled,
        running: scans.running,
        lastCompleted: scans.lastCompleted,
      },
      rules: ruleIds.map((rule) => {
        const counts = found.find((f) => f.rule === rule) ?? { source, rule, ...NO_FINDINGS };
        const { source: _s, rule: _r, ...numbers } = counts;
        return {
          rule,
          title: meta.get(rule)?.title ?? rule,
          severity: meta.get(rule)?.severity ?? ('info' as Severity),
          verdict: verdictOf(counts, scans.completed),
          ...numbers,
        };
      }),
    };
  });
  return {
    period: { from: period.from.toISOString(), to: period.to.toISOString() },
    generatedAt: generatedAt.toISOString(),
    sources,
    suppressions: data.suppressions.map((s) => suppressionView(s, principal)),
  };
}

/**
 * A cell a spreadsheet will not run as a formula: keys and reasons come from the vendor's storage,
 * and a key starting with `=` must not become code on an officer's machine.
 */
export function safeCell(value: string | number | boolean | null): string | number | boolean | null {
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(value)) return `'${value}`;
  return value;
}

/** The compliance summary as CSV: one row per source and rule, with the suppressions that may apply. */
export function complianceCsv(report: ComplianceReport): string {
  const rows: Array<Array<string | number | null>> = [];
  for (const source of report.sources) {
    for (const rule of source.rules) {
      const suppressions = report.suppressions
        .filter(
          (s) =>
            (s.source === null || s.source === source.source) && (s.rule === null || s.rule === rule.rule),
        )
        .map((s) => s.id)
        .join(' ');
      rows.push([
        report.period.from,
        report.period.to,
        source.source,
        rule.rule,
        rule.title,
        rule.severity,
        rule.verdict,
        rule.present,
        rule.open,
        rule.acknowledged,
        rule.resolved,
        rule.falsePositive,
        rule.acceptedRisk,
        rule.remediated,
        rule.suppressed,
        rule.newInPeriod,
        rule.remediatedInPeriod,
        source.scans.completed,
        source.scans.lastCompleted?.id ?? '',
        suppressions,
      ]);
    }
  }
  return stringify(
    rows.map((row) => row.map(safeCell)),
    {
      header: true,
      columns: [
        'period_from',
        'period_to',
        'source',
        'rule',
        'title',
        'severity',
        'verdict',
        'present',
        'open',
        'acknowledged',
        'resolved',
        'false_positive',
        'accepted_risk',
        'remediated',
        'suppressed',
        'new_in_period',
        'remediated_in_period',
        'scans_completed',
        'last_completed_scan',
        'suppression_ids',
      ],
    },
  );
}

/** Columns of the findings CSV export, in order. */
export const FINDING_CSV_COLUMNS = [
  'id',
  'rule',
  'severity',
  'status',
  'source',
  'bucket',
  'key',
  'etag',
  'size',
  'lastModified',
  'captureTime',
  'captureTimeOrigin',
  'ageHours',
  'threshold',
  'reason',
  'firstSeen',
  'lastSeen',
  'remediatedAt',
  'acceptedUntil',
  'suppressedBy',
  'scanId',
] as const satisfies ReadonlyArray<keyof Finding>;

/** Rows per store page while exporting. */
const EXPORT_PAGE = 500;

/**
 * Streams every finding matching `filter` to `res`, page by page through the store's cursor, as CSV
 * or NDJSON; waits for the client to drain and stops when it goes away. The headers must be set.
 */
export async function streamFindings(
  store: Store,
  filter: FindingFilter,
  format: 'csv' | 'ndjson',
  principal: Principal,
  res: Response,
): Promise<void> {
  let cursor: string | undefined;
  let first = true;
  do {
    const page = await store.listFindings({ ...filter, limit: EXPORT_PAGE, cursor });
    const views = page.items.map((f) => findingView(f, principal));
    const chunk =
      format === 'csv'
        ? stringify(
            views.map((f) => FINDING_CSV_COLUMNS.map((c) => safeCell(f[c]))),
            { header: first, columns: [...FINDING_CSV_COLUMNS] },
          )
        : views.map((f) => `${JSON.stringify(f)}\n`).join('');
    first = false;
    if (res.destroyed) return;
    if (chunk !== '' && !res.write(chunk)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          res.off('drain', done);
          res.off('close', done);
          resolve();
        };
        res.on('drain', done);
        res.on('close', done);
      });
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined && !res.destroyed);
  res.end();
}
