// Pipeline benchmark (issue 9): the embedded platform as its own process, measured only
// through its public HTTP and socket API, next to the same compile and runs done natively
// (chroot into the same runtime rootfs: no sandbox, no queue). One run prints:
//   - per language: POST -> final socket event (one submission at a time, median of --runs)
//     vs native compile + 10 runs, the ratio, and the sum of the reported per-test times;
//   - burst: --burst C + Python submissions at once, submissions/s end to end, vs native
//     serial (with --burst-slots 1,2: one burst per EVALUATOR_CONCURRENCY, fresh platforms;
//     each after --burst-warmup unmeasured submissions, 20 by default, so a fresh platform's
//     JIT warm-up is not counted);
//   - ingest: accepted POST/s at --in-flight requests in flight while judging runs, p50/p99;
//   - Redis bytes per queued submission (MEMORY USAGE of its keys, on real queued jobs);
//   - the machine, and issue 9's goal with pass/FAIL per row.
// A script, not a timed test: the goals live in report.ts.
//
//   npm run bench:pipeline                                     # everything, --runs 3
//   npm run bench:pipeline -- --languages c,python --runs 2 --skip-burst --skip-ingest
//   npm run bench:pipeline -- --burst-slots 1,2 --json /tmp/pipeline.json
//   npm run bench:pipeline -- --from-json /tmp/pipeline.json   # reprint a saved run
//   npm run bench:pipeline -- --languages c --runs 5 --skip-burst --skip-ingest --breakdown   # stage by stage
//   npm run bench:pipeline -- --languages c --runs 1 --burst-slots 2 --skip-ingest --cpu-prof /tmp/prof   # V8 profiles
//   npm run bench:pipeline -- --node-options=--perf-basic-prof ...   # JIT symbols for perf record -p <pid>
import { readFileSync, realpathSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { LANGUAGES, type Language } from "@sonocode/contracts";
import { breakdown, stageLines, type Breakdown, type ClientTimes } from "./breakdown.js";
import { describeMachine, load, machineLine } from "./machine.js";
import { startNativeRunner, type NativeRunner } from "./native.js";
import { stopEveryPlatform } from "./platform.child.js";
import { createHttpClient } from "./pipeline.client.js";
import { BURST_MIX, burst, ingest, log, measureLanguage, nativeSerialPerSecond, openPlatform, type Context, type PhaseOptions } from "./pipeline.phases.js";
import type { RedisBytes } from "./redis-bytes.js";
import { renderReport, wrongVerdicts, type BurstFigures, type IngestFigures, type LanguageFigures, type PipelineReport } from "./report.js";

const REPO = resolve(import.meta.dirname, "../..");
/** The order. */
const DEFAULT_LANGUAGES: Language[] = ["C", "CPP", "PYTHON", "GO", "RUST", "JAVASCRIPT", "JAVA", "TYPESCRIPT"];

const { values: args } = parseArgs({
  options: {
    languages: { type: "string" },
    runs: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    burst: { type: "string", default: "100" },
    "burst-warmup": { type: "string", default: "20" },
    "burst-slots": { type: "string" },
    "skip-burst": { type: "boolean", default: false },
    "skip-ingest": { type: "boolean", default: false },
    "ingest-seconds": { type: "string", default: "10" },
    "in-flight": { type: "string", default: "32" },
    slots: { type: "string" },
    rootfs: { type: "string", default: "/var/lib/sonocode/runtime/rootfs" },
    json: { type: "string" },
    "log-level": { type: "string", default: "warn" },
    "keep-data": { type: "boolean", default: false },
    "from-json": { type: "string" },
    breakdown: { type: "boolean", default: false },
    "cpu-prof": { type: "string" },
    "node-options": { type: "string" },
  },
});

// Reprint a saved run (for refreshing the README) without measuring anything.
if (args["from-json"]) {
  process.stdout.write(renderReport(JSON.parse(readFileSync(args["from-json"], "utf8")) as PipelineReport));
  process.exit(0);
}

function wholeNumber(name: string, value: string | undefined, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got ${value}`);
  return n;
}

function parseLanguages(value: string | undefined): Language[] {
  if (!value) return DEFAULT_LANGUAGES;
  return value.split(",").map((raw) => {
    const language = raw.trim().toUpperCase();
    if (!(LANGUAGES as readonly string[]).includes(language)) throw new Error(`unknown language ${raw}; known: ${LANGUAGES.join(", ")}`);
    return language as Language;
  });
}

const options = {
  languages: parseLanguages(args.languages),
  runs: wholeNumber("runs", args.runs, 1),
  warmup: wholeNumber("warmup", args.warmup, 0),
  burst: wholeNumber("burst", args.burst, 2),
  burstWarmup: wholeNumber("burst-warmup", args["burst-warmup"], 0),
  burstSlots: args["burst-slots"] ? args["burst-slots"].split(",").map((v) => wholeNumber("burst-slots", v, 1)) : [],
  skipBurst: args["skip-burst"] === true,
  skipIngest: args["skip-ingest"] === true,
  ingestSeconds: wholeNumber("ingest-seconds", args["ingest-seconds"], 1),
  inFlight: wholeNumber("in-flight", args["in-flight"], 1),
  slots: args.slots === undefined ? undefined : wholeNumber("slots", args.slots, 1),
  rootfs: realpathSync(args.rootfs!),
  breakdown: args.breakdown === true,
  cpuProfileDir: args["cpu-prof"] === undefined ? undefined : resolve(args["cpu-prof"]),
  nodeOptions: args["node-options"],
  // The stage lines --breakdown reads are info lines.
  logLevel: args.breakdown === true && ["warn", "error", "fatal", "silent"].includes(args["log-level"]!) ? "info" : args["log-level"]!,
  keepData: args["keep-data"] === true,
};
const phaseOptions: PhaseOptions = { warmup: options.warmup, runs: options.runs, burst: options.burst, burstWarmup: options.burstWarmup, ingestSeconds: options.ingestSeconds, inFlight: options.inFlight };
const platformOptions = (slots: number | undefined) => ({ repoRoot: REPO, rootfs: options.rootfs, slots, logLevel: options.logLevel, keepData: options.keepData, cpuProfileDir: options.cpuProfileDir, nodeOptions: options.nodeOptions });

/** The platform's log once it holds every measured submission's stage lines (they reach the file a moment after the event), or after 3 s. */
async function logWithStages(ctx: Context, clients: readonly ClientTimes[]): Promise<string> {
  const deadline = Date.now() + 3_000;
  for (;;) {
    const text = await ctx.platform.log();
    const { evaluator, consumer } = stageLines(text);
    if (Date.now() > deadline || clients.every((c) => evaluator.has(c.submissionId) && consumer.has(c.submissionId))) return text;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function main(): Promise<void> {
  const machine = describeMachine(REPO);
  const startedAt = new Date().toISOString();
  log(machineLine(machine));
  const http = createHttpClient(Math.max(64, options.inFlight));
  let native: NativeRunner | undefined;
  const open = new Set<Context>();
  const close = async (ctx: Context) => {
    open.delete(ctx);
    ctx.events.close();
    await ctx.platform.stop().catch((error: unknown) => log(`stopping the platform: ${String(error)}`));
  };
  const cleanup = async () => {
    for (const ctx of [...open]) await close(ctx);
    http.close();
    await native?.close().catch(() => undefined);
  };
  // on, not once: Ctrl-C reaches us twice (from the terminal and relayed by tsx), and a second
  // signal without a listener would kill us before the platform is stopped.
  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log(`${signal}: stopping`);
      void Promise.allSettled([cleanup(), stopEveryPlatform()]).finally(() => process.exit(130));
    });
  }
  const withPlatform = async <T>(slots: number | undefined, phase: (ctx: Context) => Promise<T>): Promise<T> => {
    const ctx = await openPlatform({ native: native!, http, options: phaseOptions }, platformOptions(slots));
    open.add(ctx);
    try {
      return await phase(ctx);
    } catch (error) {
      log(`platform log tail:\n${await ctx.platform.logTail()}`);
      throw error;
    } finally {
      await close(ctx);
    }
  };

  // A phase that fails (a timeout on a loaded machine, a refused POST) is reported and the run goes on.
  const errors: string[] = [];
  const attempt = async <T>(what: string, phase: () => Promise<T>): Promise<T | null> => {
    try {
      return await phase();
    } catch (error) {
      const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
      log(`FAILED ${message}`);
      errors.push(message);
      return null;
    }
  };

  try {
    native = await startNativeRunner({ repoRoot: REPO, rootfs: options.rootfs });
    log(`native runner ready (chroot /bin/true ${native.execFloorMs.toFixed(1)} ms); starting the platform`);
    const languages: LanguageFigures[] = [];
    const bursts: BurstFigures[] = [];
    const redisSamples: RedisBytes[] = [];
    const breakdowns: Breakdown[] = [];
    let ingestFigures: IngestFigures | null = null;
    let platformEnv: Record<string, string> = {};
    let nativeSerial = Number.NaN;

    await withPlatform(options.slots, async (ctx) => {
      platformEnv = ctx.platform.env;
      log("platform judging; measuring languages");
      for (const language of options.languages) {
        const clients: ClientTimes[] = [];
        const figures = await attempt(`${language}`, () => measureLanguage(ctx, language, clients));
        if (figures) languages.push(figures);
        if (figures && options.breakdown) breakdowns.push(breakdown(language, clients, await logWithStages(ctx, clients)));
      }
      if (!options.skipBurst) {
        nativeSerial = (await attempt("native serial C + Python", () => nativeSerialPerSecond(native!, options.runs, languages, BURST_MIX(options.burst)))) ?? Number.NaN;
        if (options.burstSlots.length === 0) {
          const figures = await attempt("burst", () => burst(ctx, nativeSerial, options.slots ?? null, redisSamples));
          if (figures) bursts.push(figures);
        }
      }
      if (!options.skipIngest) ingestFigures = await attempt("ingest", () => ingest(ctx, redisSamples));
    });
    // Scaling: each slot count on a fresh platform, so no backlog of the ingest phase is in the way.
    if (!options.skipBurst) {
      for (const slots of options.burstSlots) {
        const figures = await attempt(`burst with EVALUATOR_CONCURRENCY ${slots}`, () => withPlatform(slots, (ctx) => burst(ctx, nativeSerial, slots, redisSamples)));
        if (figures) bursts.push(figures);
      }
    }

    const report: PipelineReport = {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: { ...machine, loadEnd: load() },
      options: { ...options },
      platformEnv,
      nativeExecFloorMs: native.execFloorMs,
      languages,
      bursts,
      ingest: ingestFigures,
      // The largest sample of queued submissions speaks for the figure.
      redis: [...redisSamples].sort((a, b) => b.samples - a.samples)[0] ?? null,
      ...(breakdowns.length > 0 ? { breakdowns } : {}),
      errors,
    };
    if (wrongVerdicts(report).length > 0 || errors.length > 0) process.exitCode = 1;
    process.stdout.write(renderReport(report));
    if (args.json) {
      writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`figures written to ${args.json}`);
    }
  } finally {
    await cleanup();
  }
}

await main().catch((error: unknown) => {
  log(`FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exitCode = 1;
});
