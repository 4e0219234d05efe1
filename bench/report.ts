/**
 * Statistics over repeated runs and the benchmark's table: plain text for the terminal, markdown for
 * bench/results.md, both from the same rows.
 */
import { cpus, freemem, release, totalmem } from 'node:os';

/** Median and range of a few runs. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  runs: number;
}

export function spread(values: number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, min: Number.NaN, max: Number.NaN, runs: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, runs: values.length };
}

/** `123.4 (118.0-125.1, 3 runs)`; a single run shows `(1 run)`. */
export function formatSpread(s: Spread, digits = 1, unit = ''): string {
  const f = (n: number) => n.toFixed(digits);
  if (s.runs <= 1) return `${f(s.median)}${unit} (1 run)`;
  const pct = s.median === 0 ? 0 : ((s.max - s.min) / s.median) * 100;
  return `${f(s.median)}${unit} (${f(s.min)}-${f(s.max)}, ±${(pct / 2).toFixed(0)}%, ${s.runs} runs)`;
}

/**
 * A ratio's spread with two digits, or three when its median is within 0.005 of `target`: there two
 * would round a miss onto the target (0.8996 shown as 0.90 beside FAIL).
 */
export function formatRatio(s: Spread, target?: number): string {
  const nearTarget = target !== undefined && Math.abs(s.median - target) < 0.005;
  return formatSpread(s, nearTarget ? 3 : 2);
}

export const MiB = 1024 * 1024;
export const KiB = 1024;

export type Verdict = 'PASS' | 'FAIL' | 'n/a';

export interface Row {
  id: string;
  what: string;
  measured: string;
  target: string;
  verdict: Verdict;
}

export function verdict(ok: boolean | null): Verdict {
  return ok === null ? 'n/a' : ok ? 'PASS' : 'FAIL';
}

export interface Machine {
  cpus: string;
  memory: string;
  node: string;
  os: string;
}

export function describeMachine(): Machine {
  const list = cpus();
  return {
    cpus: `${list.length} x ${list[0]?.model.trim() ?? 'unknown'}`,
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB (${(freemem() / 1024 ** 3).toFixed(1)} GiB free at start)`,
    node: process.version,
    os: `${process.platform} ${release()}`,
  };
}

function pad(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - text.length));
}

/** The rows as an aligned text table (cells wrap at nothing: long cells widen their column). */
export function textTable(rows: Row[]): string {
  const header: Row = { id: '', what: 'measure', measured: 'measured', target: 'target', verdict: 'n/a' };
  const cells = (r: Row, head = false) => [r.id, r.what, r.measured, r.target, head ? 'result' : r.verdict];
  const all = [cells(header, true), ...rows.map((r) => cells(r))];
  const widths = all[0]!.map((_, col) => Math.max(...all.map((line) => line[col]!.length)));
  const line = (values: string[]) => values.map((v, col) => pad(v, widths[col]!)).join(' | ');
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  return [line(all[0]!), rule, ...all.slice(1).map(line)].join('\n');
}

function mdCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/** The rows as a markdown table. */
export function markdownTable(rows: Row[]): string {
  return [
    '| | measure | measured | target | result |',
    '|---|---|---|---|---|',
    ...rows.map(
      (r) => `| ${r.id} | ${mdCell(r.what)} | ${mdCell(r.measured)} | ${mdCell(r.target)} | ${r.verdict} |`,
    ),
  ].join('\n');
}

/** The whole report as markdown: machine, command, parameters, table and notes. */
export function markdownReport(input: {
  machine: Machine;
  command: string;
  parameters: string[];
  rows: Row[];
  notes: string[];
  date: Date;
}): string {
  const m = input.machine;
  return `# Benchmark results

Measured ${input.date.toISOString()} with \`${input.command}\`.

Machine: ${m.cpus}; ${m.memory}; Node ${m.node}; ${m.os}.

${input.parameters.map((p) => `- ${p}`).join('\n')}

${markdownTable(input.rows)}

${input.notes.map((n) => `- ${n}`).join('\n')}
`;
}
