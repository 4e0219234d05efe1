/**
 * Plain-text rendering of a scan for the terminal: the summary table and the findings list.
 */
import type { Finding, Scan } from '../../core/model.js';
import { SEVERITIES } from '../../core/model.js';

/** Renders rows as a left-aligned text table with a header rule. */
export function textTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function severityRank(severity: string): number {
  return SEVERITIES.indexOf(severity as (typeof SEVERITIES)[number]);
}

/** The summary printed after a scan: status, counts, findings per rule. */
export function renderSummary(scan: Scan, findings: Finding[]): string {
  const byRule = new Map<string, { severity: string; count: number; sources: Set<string> }>();
  for (const f of findings) {
    const entry = byRule.get(f.rule) ?? { severity: f.severity, count: 0, sources: new Set<string>() };
    entry.count += 1;
    entry.sources.add(f.source);
    byRule.set(f.rule, entry);
  }
  const rows = [...byRule.entries()]
    .sort((a, b) => severityRank(a[1].severity) - severityRank(b[1].severity) || a[0].localeCompare(b[0]))
    .map(([rule, e]) => [rule, e.severity, String(e.count), [...e.sources].sort().join(', ')]);
  const lines = [
    `Scan ${scan.id}: ${scan.status.toUpperCase()}`,
    `  judged at ${scan.judgedAt}; sources: ${scan.sources.join(', ')}`,
    `  objects listed ${scan.objectsListed}, evaluated ${scan.objectsEvaluated}; findings ${findings.length}`,
    '',
    rows.length > 0 ? textTable(['rule', 'severity', 'findings', 'sources'], rows) : 'No findings.',
  ];
  if (scan.errors.length > 0) {
    lines.push(
      '',
      `Why the scan is ${scan.status} (${scan.errors.length}):`,
      ...scan.errors.slice(0, 20).map((e) => `  - ${e}`),
    );
  }
  if (scan.notes.length > 0) {
    lines.push('', `Notes (${scan.notes.length}):`, ...scan.notes.slice(0, 10).map((n) => `  - ${n}`));
  }
  return lines.join('\n');
}

/** One line per finding, most severe first. */
export function renderFindings(findings: Finding[]): string {
  const sorted = [...findings].sort(
    (a, b) =>
      severityRank(a.severity) - severityRank(b.severity) ||
      a.rule.localeCompare(b.rule) ||
      a.bucket.localeCompare(b.bucket) ||
      a.key.localeCompare(b.key),
  );
  return sorted
    .map((f) => {
      const where = f.key === '' ? `${f.source}/${f.bucket} (bucket)` : `${f.source}/${f.bucket}/${f.key}`;
      return `[${f.severity}] ${f.rule} ${where}\n    ${f.reason}`;
    })
    .join('\n');
}
