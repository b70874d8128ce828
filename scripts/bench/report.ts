// The pipeline benchmark's figures, the goals of issue 9 they are judged against, and the
// markdown tables printed from them (the README's section is pasted from this output or
// rebuilt from the --json file with the same functions).
import type { Language } from "@sonocode/contracts";
import { machineLine, type Machine } from "./machine.js";
import { breakdownTable, type Breakdown } from "./breakdown.js";
import type { CpuPerSubmission } from "./process-cpu.js";
import type { RedisBytes } from "./redis-bytes.js";

/** Issue 9's goals. Kept here, in the benchmark, never in a timed test. */
export const GOALS = {
  latencyRatio: 1.3,
  typescriptMs: 1_500,
  cWallPerTestMs: 3,
  burstShareOfNative: 0.8,
  ingestPerSecond: 2_000,
  ingestP99Ms: 50,
} as const;

export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** The middle sample; the mean of the two middle ones for an even count. */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export interface LanguageFigures {
  language: Language;
  tests: number;
  /** POST /api/v1/submissions -> final socket event, one submission at a time. */
  latencyMs: number[];
  /** POST -> 201. */
  postMs: number[];
  /** Native compile + runs, same argv, chroot into the same rootfs. */
  nativeMs: number[];
  nativeCompileMs: number[];
  /** Sum over the final result's tests of timeMs (CPU) and of wallTimeMs (when reported). */
  reportedTimeMs: number[];
  reportedWallMs: number[];
  statuses: Record<string, number>;
}

export interface BurstFigures {
  /** EVALUATOR_CONCURRENCY the platform ran with; null = its default. */
  slots: number | null;
  submissions: number;
  /** First POST sent -> last final event. */
  seconds: number;
  postSeconds: number;
  perSecond: number;
  nativeSerialPerSecond: number;
  usableCores: number;
  targetPerSecond: number;
  statuses: Record<string, number>;
  duplicateFinalEvents: number;
  /**
   * Per language, the median over its submissions of Σ reported per-test time (CPU, wall). With each
   * slot pinned to its own CPU these should match between 1 and 2 slots: parallel judging must not
   * distort measured times.
   */
  reportedMs: Array<{ language: Language; cpuMs: number; wallMs: number | null }>;
  /** Where the burst's CPU went, per submission (absent in runs saved before it was measured). */
  cpuMsPerSubmission?: CpuPerSubmission;
}

export interface IngestFigures {
  inFlight: number;
  seconds: number;
  accepted: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** HTTP status -> count over the measured window. */
  statuses: Record<string, number>;
  /** Growth of Redis used_memory over the window divided by accepted POSTs (queues, streams, everything). */
  redisGrowthBytesPerAccepted: number;
  /** Submissions the evaluator finished judging per second during the window (null: no metrics; absent in older JSON). */
  judgedPerSecond?: number | null;
  /** CPU per accepted POST over the window, judging included (absent in older JSON). */
  cpuMsPerAccepted?: CpuPerSubmission;
}

/** The run's options the report needs to describe itself (the JSON holds them all). */
export interface ReportOptions {
  runs: number;
  warmup: number;
  /** EVALUATOR_CONCURRENCY of the main platform; absent = its default. */
  slots?: number | undefined;
  rootfs: string;
  [other: string]: unknown;
}

export interface PipelineReport {
  startedAt: string;
  finishedAt: string;
  machine: Machine;
  options: ReportOptions;
  /** The platform's variables (no secret). */
  platformEnv: Record<string, string>;
  nativeExecFloorMs: number;
  languages: LanguageFigures[];
  /** One burst on the main platform, or one per --burst-slots value, each on a fresh platform. */
  bursts: BurstFigures[];
  ingest: IngestFigures | null;
  redis: RedisBytes | null;
  /** --breakdown: per language, where POST → final event went (platform at log level info). */
  breakdowns?: Breakdown[];
  /** Phases that failed, with why; their figures are absent. */
  errors: string[];
}

export type Verdict = "pass" | "FAIL" | "—";
const verdict = (ok: boolean | null): Verdict => (ok === null ? "—" : ok ? "pass" : "FAIL");

export function ratio(figures: LanguageFigures): number {
  return median(figures.latencyMs) / median(figures.nativeMs);
}

/** Mean reported wall time per test (wallTimeMs when the platform reports it, else timeMs). */
export function perTestWallMs(figures: LanguageFigures): number {
  const sums = figures.reportedWallMs.length > 0 ? figures.reportedWallMs : figures.reportedTimeMs;
  return median(sums) / figures.tests;
}

export function languageVerdict(figures: LanguageFigures): Verdict {
  const okRatio = ratio(figures) <= GOALS.latencyRatio;
  if (figures.language === "TYPESCRIPT") return verdict(okRatio && median(figures.latencyMs) <= GOALS.typescriptMs);
  return verdict(okRatio);
}

/** The goal is for the platform as configured by default (a slot per usable core): a burst on fewer slots only shows the scaling. */
export function burstVerdict(burst: BurstFigures): Verdict {
  if (burst.slots !== null && burst.slots < burst.usableCores) return "—";
  return verdict(burst.perSecond >= burst.targetPerSecond);
}

export function ingestVerdict(ingest: IngestFigures): Verdict {
  return verdict(ingest.perSecond >= GOALS.ingestPerSecond && ingest.p99Ms <= GOALS.ingestP99Ms);
}

export function markdownTable(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => `| ${widths.map((w, i) => (cells[i] ?? "").padEnd(w)).join(" | ")} |`;
  return [line(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

export const fmtMs = (ms: number) =>
  !Number.isFinite(ms) ? "n/a" : ms >= 1_000 ? `${(ms / 1000).toFixed(2)} s` : ms >= 100 ? `${Math.round(ms)} ms` : ms >= 1 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(2)} ms`;
const fmtRate = (perSecond: number) => `${perSecond >= 100 ? Math.round(perSecond) : perSecond.toFixed(2)}/s`;
const fmtReported = (reported: BurstFigures["reportedMs"]) =>
  reported.map((r) => `${r.language} ${fmtMs(r.cpuMs)} / ${r.wallMs === null ? "n/a" : fmtMs(r.wallMs)}`).join(", ");
const fmtStatuses = (statuses: Record<string, number>) => Object.entries(statuses).map(([s, n]) => `${n} ${s}`).join(", ");

const fmtCpu = (cpu: CpuPerSubmission) => {
  const part = (label: string, ms: number | null) => `${label} ${ms === null ? "n/a" : fmtMs(ms)}`;
  return [
    part("launcher (API, database, sockets)", cpu.launcherMs),
    part("evaluator (Node)", cpu.evaluatorMs),
    part("sandboxes (compile, runs, supervisors)", cpu.sandboxesMs),
    part("Redis", cpu.redisMs),
    `whole machine ${fmtMs(cpu.machineBusyMs)} of ${fmtMs(cpu.machineCapacityMs)} (other users included)`,
  ].join("; ");
};

export function languageTable(languages: readonly LanguageFigures[]): string {
  const rows = languages.map((f) => [
    f.language,
    `${fmtMs(median(f.latencyMs))} (${fmtMs(Math.min(...f.latencyMs))}–${fmtMs(Math.max(...f.latencyMs))})`,
    `${fmtMs(median(f.nativeMs))} (compile ${fmtMs(median(f.nativeCompileMs))})`,
    `${ratio(f).toFixed(1)}×`,
    `${fmtMs(median(f.reportedTimeMs))} / ${f.reportedWallMs.length > 0 ? fmtMs(median(f.reportedWallMs)) : "n/a"}`,
    fmtMs(median(f.postMs)),
    fmtStatuses(f.statuses),
    f.language === "TYPESCRIPT" ? `≤ ${GOALS.latencyRatio}× and ≤ ${GOALS.typescriptMs / 1000} s` : `≤ ${GOALS.latencyRatio}×`,
    languageVerdict(f),
  ]);
  return markdownTable(
    ["language", "POST → final event (median; min–max)", "native compile + runs", "ratio", "Σ reported test time (CPU / wall)", "POST → 201", "verdicts", "goal", "result"],
    rows,
  );
}

export function summaryTable(report: PipelineReport): string {
  const rows: string[][] = [];
  const c = report.languages.find((f) => f.language === "C");
  if (c) rows.push(["reported wall time per test, trivial C", fmtMs(perTestWallMs(c)), `≤ ${GOALS.cWallPerTestMs} ms`, verdict(perTestWallMs(c) <= GOALS.cWallPerTestMs)]);
  const ts = report.languages.find((f) => f.language === "TYPESCRIPT");
  if (ts) rows.push(["TypeScript absolute (POST → final event)", fmtMs(median(ts.latencyMs)), `≤ ${GOALS.typescriptMs / 1000} s`, verdict(median(ts.latencyMs) <= GOALS.typescriptMs)]);
  for (const b of report.bursts) {
    rows.push([
      `burst of ${b.submissions} C + Python submissions${b.slots === null ? "" : `, EVALUATOR_CONCURRENCY ${b.slots}`}`,
      `${fmtRate(b.perSecond)} (native serial ${fmtRate(b.nativeSerialPerSecond)}; ${b.usableCores} usable cores → target ${fmtRate(b.targetPerSecond)}; ${fmtStatuses(b.statuses)}; Σ test time ${fmtReported(b.reportedMs)})`,
      b.slots !== null && b.slots < b.usableCores ? `— (scaling: fewer slots than the ${b.usableCores} usable cores)` : `≥ ${GOALS.burstShareOfNative} × native serial × usable cores`,
      burstVerdict(b),
    ]);
    if (b.cpuMsPerSubmission) rows.push([`  CPU per submission in that burst`, fmtCpu(b.cpuMsPerSubmission), "—", "—"]);
  }
  if (report.ingest) {
    const i = report.ingest;
    rows.push([
      `accepted POST/s at ${i.inFlight} in flight, judging running`,
      `${fmtRate(i.perSecond)}, p50 ${fmtMs(i.p50Ms)}, p99 ${fmtMs(i.p99Ms)} (${i.accepted} in ${i.seconds.toFixed(1)} s; ${fmtStatuses(i.statuses)})`,
      `≥ ${GOALS.ingestPerSecond.toLocaleString("en-US")}/s, p99 ≤ ${GOALS.ingestP99Ms} ms`,
      ingestVerdict(i),
    ]);
    if (i.judgedPerSecond !== undefined && i.judgedPerSecond !== null) rows.push([`  judged meanwhile`, `${fmtRate(i.judgedPerSecond)}`, "—", "—"]);
    if (i.cpuMsPerAccepted) rows.push([`  CPU per accepted POST in that window`, fmtCpu(i.cpuMsPerAccepted), "—", "—"]);
  }
  if (report.redis) {
    const r = report.redis;
    const keys = r.keys.map((k) => `${k.pattern} ${k.medianBytes} B`).join(", ");
    rows.push(["Redis bytes per queued submission (MEMORY USAGE)", `${r.medianBytes} B median of ${r.samples} (${r.minBytes}–${r.maxBytes}; ${keys})`, "—", "—"]);
  }
  if (report.ingest) rows.push(["Redis used_memory growth per accepted POST", `${Math.round(report.ingest.redisGrowthBytesPerAccepted)} B`, "—", "—"]);
  return markdownTable(["figure", "measured", "goal", "result"], rows);
}

/** Verdicts other than Success: with any, the figures compare nothing. */
export function wrongVerdicts(report: PipelineReport): string[] {
  return [...report.languages.flatMap((f) => Object.keys(f.statuses)), ...report.bursts.flatMap((b) => Object.keys(b.statuses))].filter((s) => s !== "Success");
}

/** Everything the benchmark prints, from the report alone (so `--from-json` reprints a saved run exactly). */
export function renderReport(report: PipelineReport): string {
  const { options } = report;
  const wrong = wrongVerdicts(report);
  const tests = report.languages[0]?.tests ?? 10;
  return [
    "",
    `Pipeline benchmark, ${report.startedAt} → ${report.finishedAt}`,
    machineLine(report.machine),
    `platform: embedded (apps/platform/src/main.ts), bwrap, EVALUATOR_CONCURRENCY ${options.slots ?? "default"}, rate limits off`,
    `native: the judge's argv by chroot into ${options.rootfs} (chroot /bin/true from Node: ${report.nativeExecFloorMs.toFixed(1)} ms)`,
    `A+B with ${tests} tests; ${options.warmup} warm-up + ${options.runs} measured submission(s) per language, one at a time`,
    "",
    languageTable(report.languages),
    "",
    summaryTable(report),
    ...(report.breakdowns && report.breakdowns.length > 0
      ? ["", `Stage by stage (--breakdown; platform at log level ${String(options.logLevel ?? "info")}; medians, so the rows need not add up to the total):`, "", breakdownTable(report.breakdowns)]
      : []),
    ...(wrong.length > 0 ? ["", `NOT every verdict was Success (${wrong.join(", ")}): these figures are not comparable.`] : []),
    ...(report.errors.length > 0 ? ["", "Phases that failed (not in the tables):", ...report.errors.map((e) => `  - ${e}`)] : []),
    "",
  ].join("\n");
}
