/** The table's rows from the measurements, with the issue's targets and PASS/FAIL. */
import type { BenchOptions } from './options.js';
import type {
  BareRun,
  ProcessesResult,
  ProcessScan,
  RescanResult,
  ThroughputResult,
  WorkerStats,
} from './phases.js';
import type { MachineLoad } from './machine-cpu.js';
import type { ScanRun } from './pipeline.js';
import { formatRatio, formatSpread, KiB, MiB, spread, verdict, type Row } from './report.js';

/** Median cores busy and stolen, of the machine's cores (bench/machine-cpu.ts). */
function machineLoad(loads: MachineLoad[]): string {
  const busy = spread(loads.map((l) => l.busy)).median.toFixed(2);
  const stolen = spread(loads.map((l) => l.stolen)).median.toFixed(2);
  return `machine ${busy} of ${loads[0]?.cores ?? 0} cores busy, ${stolen} stolen by the host`;
}

/** Per-run ratios of interleaved pairs (run i of `over` to run i of `under`). */
function pairRatios(over: number[], under: number[]): number[] {
  return over.map((value, i) => value / under[i]!);
}

const mib = (bytes: number) => (bytes / MiB).toFixed(0);

function rate(runs: ProcessScan[]): string {
  return formatSpread(spread(runs.map((p) => p.scan.objectsPerSecond)), 1, ' obj/s');
}

/** CPU milliseconds per object of the worker process(es) and of the S3 process (first run). */
function cpuPerObject(runs: ProcessScan[]): string {
  const first = runs[0];
  if (!first) return '';
  const n = first.scan.evaluated;
  const workers = first.processes.map((p) => ((p.cpuSeconds / n) * 1000).toFixed(2)).join(' + ');
  const s3 = ((first.scan.s3CpuSeconds / n) * 1000).toFixed(2);
  return (
    `CPU ms/object: worker ${workers}, S3 server ${s3}; ` +
    `S3 event loop busy ${(first.scan.s3EventLoopBusy * 100).toFixed(0)} %; ` +
    machineLoad([first.scan.machine])
  );
}

function processRows(processes: ProcessesResult): Row[] {
  const median = (runs: ProcessScan[]) => spread(runs.map((p) => p.scan.objectsPerSecond)).median;
  const shards = (runs: ProcessScan[]) => runs[0]?.scan.shards ?? 0;
  const speedup = (two: ProcessScan[], one: ProcessScan[]) => (median(two) / median(one)).toFixed(2);
  const row = (what: string, runs: ProcessScan[], versus?: ProcessScan[]): Row => ({
    id: '(f)',
    what,
    measured:
      `${rate(runs)}${versus ? ` = ${speedup(runs, versus)} x 1 process` : ''}; ` +
      `${shards(runs)} shard(s); ${cpuPerObject(runs)}`,
    target: '-',
    verdict: 'n/a',
  });
  return [
    row('full scan (first), 1 worker process', processes.fresh1),
    row('full scan (first), 2 worker processes', processes.fresh2, processes.fresh1),
    row('re-read of every object with learned shards, 1 worker process', processes.sharded1),
    row(
      're-read of every object with learned shards, 2 worker processes',
      processes.sharded2,
      processes.sharded1,
    ),
  ];
}

function memory(stats: WorkerStats, objects: number): string {
  return (
    `${mib(stats.peakRss)} MiB at ${objects} (ready ${mib(stats.rssAtReady)}, ` +
    `peak by fifth of the scan ${stats.rssByFifth.map(mib).join('/')})`
  );
}

function throughputRows(opts: BenchOptions, throughput: ThroughputResult): Row[] {
  const bareRates = throughput.bare.map((r) => r.objectsPerSecond);
  const fullRates = throughput.full.map((r) => r.objectsPerSecond);
  const fullRatio = spread(pairRatios(fullRates, bareRates));
  const listedRates = throughput.bareListed.map((r) => r.objectsPerSecond);
  const listedRatio = spread(pairRatios(fullRates, listedRates));
  const stallShare = (list: { readingSeconds: number; stalledSeconds: number }[]) =>
    spread(
      list.map((x) => (x.readingSeconds > 0 ? (x.stalledSeconds / x.readingSeconds) * 100 : 0)),
    ).median.toFixed(0);
  const objects = throughput.full[0]?.evaluated ?? 0;
  const ms = (seconds: number[]) => ((spread(seconds).median / objects) * 1000).toFixed(2);
  /**
   * Median CPU per object of this process (the client, or the in-process worker) and of the S3
   * process, and how busy the S3 process's event loop was: the share that says whether s3rver's one
   * JavaScript thread is the limit.
   */
  const cpu = (
    side: 'client' | 'worker',
    own: number[],
    runs: { s3CpuSeconds: number; s3EventLoopBusy: number; machine: MachineLoad }[],
  ) =>
    `CPU ms/object: ${side} ${ms(own)}, S3 server ${ms(runs.map((r) => r.s3CpuSeconds))}; ` +
    `S3 event loop busy ${(spread(runs.map((r) => r.s3EventLoopBusy)).median * 100).toFixed(0)} %; ` +
    machineLoad(runs.map((r) => r.machine));
  const bareCpu = (runs: BareRun[]) =>
    cpu(
      'client',
      runs.map((r) => r.cpuSeconds),
      runs,
    );
  const full = throughput.full;
  return [
    {
      id: '(a)',
      what: `bare client: ranged GET of 64 KiB + exifr.parse, ${opts.concurrency} in flight, no listing`,
      measured: `${formatSpread(spread(bareRates), 1, ' obj/s')}; ${bareCpu(throughput.bare)}`,
      target: 'baseline (this machine)',
      verdict: 'n/a',
    },
    {
      id: "(a')",
      what: 'the same bare client listing the bucket while it reads (a scan must list)',
      measured:
        `${formatSpread(spread(listedRates), 1, ' obj/s')}; ${bareCpu(throughput.bareListed)}; ` +
        `(b) reaches ${formatRatio(listedRatio)} of it`,
      target: '-',
      verdict: 'n/a',
    },
    {
      id: '(b)',
      what: 'full scan: runScan (in-process worker), queue, PostgreSQL store',
      measured:
        `${formatSpread(spread(fullRates), 1, ' obj/s')}; ratio to (a) ${formatRatio(fullRatio, 0.9)}; ` +
        `${cpu(
          'worker',
          full.map((r) => r.benchCpuSeconds),
          full,
        )}; ` +
        `no GET started in ${stallShare(throughput.full.map((r) => r.stalls))} % of the reading time ` +
        `(bare client ${stallShare(throughput.bareStalls)} %)`,
      target: '>= 0.9 x (a)',
      // A profiler costs the scan (far more JavaScript) more than the bare client: no verdict then.
      verdict: opts.cpuProfDir ? 'n/a' : verdict(fullRatio.median >= 0.9),
    },
  ];
}

function rescanRows(rescan: RescanResult): Row[] {
  const seconds = (runs: ScanRun[]) => runs.map((r) => r.seconds);
  const ratio = spread(pairRatios(seconds(rescan.rescans), rescan.listing));
  const shardedRatio = spread(pairRatios(seconds(rescan.sharded), rescan.listing));
  // Reads of any kind: a rescan that sent a HEAD per object would read nothing and still not be free.
  const reads = (runs: ScanRun[]) => runs.map((r) => r.signedGets + r.headRequests);
  const first = rescan.rescans[0];
  const sharded = rescan.sharded[0];
  return [
    {
      id: '(c)',
      what: 'rescan of the unchanged bucket (default shardSize)',
      measured:
        `${formatSpread(spread(seconds(rescan.rescans)), 2, ' s')}; GETs + HEADs ${reads(rescan.rescans).join(', ')}; ` +
        `bare listing ${formatSpread(spread(rescan.listing), 2, ' s')}; ratio ${formatRatio(ratio, 1.5)}; ` +
        `${first?.shards ?? 0} shard(s), ${first?.listRequests ?? 0} list requests`,
      target: '0 GETs (nor HEADs), <= 1.5 x listing',
      verdict: verdict(reads(rescan.rescans).every((n) => n === 0) && ratio.median <= 1.5),
    },
    {
      id: '(c)',
      what: 'same rescan in shards learned from the last scan (shardSize about N/8), for comparison',
      measured:
        `${formatSpread(spread(seconds(rescan.sharded)), 2, ' s')}; ratio ${formatRatio(shardedRatio)}; ` +
        `GETs + HEADs ${reads(rescan.sharded).join(', ')}; ${sharded?.shards ?? 0} shard(s), ` +
        `${sharded?.listRequests ?? 0} list requests`,
      target: '-',
      verdict: 'n/a',
    },
  ];
}

export function buildRows(input: {
  opts: BenchOptions;
  throughput: ThroughputResult;
  rescan: RescanResult;
  processes: ProcessesResult;
  atScale: ProcessScan | null;
  scaleMode: 'full' | 'truncated' | 'skipped';
}): Row[] {
  const { opts, throughput, rescan, processes, atScale } = input;
  // (e) as the S3 side served it (every signed GET, ranged or whole), per object the scans judged;
  // the scanner's own count of what it read is shown beside it as a cross-check.
  const total = (pick: (r: ScanRun) => number) => throughput.full.reduce((n, r) => n + pick(r), 0);
  const evaluated = total((r) => r.evaluated);
  const servedBytes = total((r) => r.servedGetBytes);
  const perObject = evaluated > 0 ? servedBytes / evaluated : Number.NaN;
  const scannerPerObject = total((r) => r.bytesRead) / total((r) => r.fetched);

  // The single-process first scan with the median peak stands for N: the highest would flatter
  // the growth to 5N (measured once), the lowest would inflate it.
  const peaksAtN = processes.fresh1.map((p) => p.processes[0]!).sort((a, b) => a.peakRss - b.peakRss);
  const atN = peaksAtN[Math.floor((peaksAtN.length - 1) / 2)]!;
  const runsAtN =
    peaksAtN.length > 1
      ? ` (median of ${peaksAtN.length} runs: ${peaksAtN.map((p) => mib(p.peakRss)).join('/')})`
      : '';
  const at5 = atScale?.processes[0] ?? null;
  const growth = at5 === null ? null : (at5.peakRss - atN.peakRss) / atN.peakRss;
  const scaleNote = input.scaleMode === 'truncated' ? ' (extra objects truncated, see notes)' : '';

  return [
    ...throughputRows(opts, throughput),
    ...rescanRows(rescan),
    {
      id: '(d)',
      what: `worker process peak RSS, N -> ${opts.scale}N objects`,
      measured:
        at5 === null
          ? `${memory(atN, opts.n)}${runsAtN}; scale run skipped`
          : `${memory(atN, opts.n)}${runsAtN} -> ${memory(at5, atScale!.scan.evaluated)}${scaleNote}: ` +
            `${growth! >= 0 ? '+' : ''}${(growth! * 100).toFixed(1)} %; ` +
            `scan at ${opts.scale}N ${atScale!.scan.objectsPerSecond.toFixed(1)} obj/s`,
      target: '< 20 % growth',
      verdict: verdict(growth === null ? null : growth < 0.2),
    },
    {
      id: '(e)',
      what: 'bytes read per object (full scans)',
      measured:
        `${(perObject / KiB).toFixed(1)} KiB (${servedBytes} B served to ${evaluated} objects judged, ` +
        `counted at the S3 gateway; ${(total((r) => r.signedGets) / evaluated).toFixed(2)} GETs per object, ` +
        `${(total((r) => r.rangedGets) / evaluated).toFixed(2)} of them ranged; the scanner counts ` +
        `${(scannerPerObject / KiB).toFixed(1)} KiB per object it fetched)`,
      target: '<= 64 KiB',
      verdict: verdict(perObject <= 64 * KiB),
    },
    ...processRows(processes),
  ];
}
