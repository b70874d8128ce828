// Pipeline benchmark (issue 9): the embedded platform as its own process, measured only
// through its public HTTP and socket API, next to the same compile and runs done natively
// (chroot into the same runtime rootfs: no sandbox, no queue). One run prints:
//   - per language: POST -> final socket event (one submission at a time, median of --runs)
//     vs native compile + 10 runs, the ratio, and the sum of the reported per-test times;
//   - burst: --burst C + Python submissions at once, submissions/s end to end, vs native serial;
//   - ingest: accepted POST/s at --in-flight requests in flight while judging runs, p50/p99;
//   - Redis bytes per queued submission (MEMORY USAGE of its keys, on real queued jobs);
//   - the machine, and issue 9's goal with pass/FAIL per row.
// A script, not a timed test: the goals live in report.ts.
//
//   npm run bench:pipeline                                     # everything, --runs 3
//   npm run bench:pipeline -- --languages c,python --runs 2 --skip-burst --skip-ingest
//   npm run bench:pipeline -- --json /tmp/pipeline.json        # figures for the README
import { realpathSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { LANGUAGES, type Language } from "@sonocode/contracts";
import { PROGRAMS } from "../../packages/judge/test/solutions.js";
import { describeMachine, load, machineLine } from "./machine.js";
import { startNativeRunner, type NativeRunner } from "./native.js";
import { startBenchPlatform, type BenchPlatform } from "./platform.child.js";
import { accepted, createdSubmissionId, createHttpClient, watchFinalEvents, type FinalEvents, type HttpClient } from "./pipeline.client.js";
import { measureQueuedBytes, usedMemory, type RedisBytes } from "./redis-bytes.js";
import { GOALS, languageTable, median, percentile, summaryTable, type BurstFigures, type IngestFigures, type LanguageFigures, type PipelineReport } from "./report.js";

const REPO = resolve(import.meta.dirname, "../..");
/** The order. */
const DEFAULT_LANGUAGES: Language[] = ["C", "CPP", "PYTHON", "GO", "RUST", "JAVASCRIPT", "JAVA", "TYPESCRIPT"];
const TEST_COUNT = 10;
const MEMORY_LIMIT_MB = 256;
const FINAL_TIMEOUT_MS = 300_000;

const { values: args } = parseArgs({
  options: {
    languages: { type: "string" },
    runs: { type: "string", default: "3" },
    warmup: { type: "string", default: "1" },
    burst: { type: "string", default: "100" },
    "skip-burst": { type: "boolean", default: false },
    "skip-ingest": { type: "boolean", default: false },
    "ingest-seconds": { type: "string", default: "10" },
    "in-flight": { type: "string", default: "32" },
    slots: { type: "string" },
    rootfs: { type: "string", default: "/var/lib/sonocode/runtime/rootfs" },
    json: { type: "string" },
    "log-level": { type: "string", default: "warn" },
    "keep-data": { type: "boolean", default: false },
  },
});

function positiveInt(name: string, value: string | undefined): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${value}`);
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
  runs: Math.max(1, positiveInt("runs", args.runs)),
  warmup: positiveInt("warmup", args.warmup),
  burst: positiveInt("burst", args.burst),
  skipBurst: args["skip-burst"] === true,
  skipIngest: args["skip-ingest"] === true,
  ingestSeconds: Math.max(1, positiveInt("ingest-seconds", args["ingest-seconds"])),
  inFlight: Math.max(1, positiveInt("in-flight", args["in-flight"])),
  slots: args.slots === undefined ? undefined : Math.max(1, positiveInt("slots", args.slots)),
  rootfs: realpathSync(args.rootfs!),
};

/** A+B, ten tests (three visible, seven hidden), some sums negative. */
const TESTS = Array.from({ length: TEST_COUNT }, (_, i) => ({ input: `${i * 37} ${i * 11 - 20}\n`, output: `${i * 48 - 20}\n`, hidden: i > 2 }));
const PROBLEM = { title: "A + B (pipeline bench)", description: "Print a + b.", difficulty: "easy", testCases: TESTS, codeStubs: [] };

const log = (line: string) => process.stderr.write(`[bench:pipeline] ${line}\n`);
const count = (list: readonly string[]) => list.reduce<Record<string, number>>((acc, s) => ((acc[s] = (acc[s] ?? 0) + 1), acc), {});

interface Context {
  platform: BenchPlatform;
  native: NativeRunner;
  http: HttpClient;
  problemId: string;
  /** Owner token of every submission posted, for GET. */
  owners: Map<string, string>;
}

async function submit(ctx: Context, token: string, language: Language): Promise<{ id: string; sentAt: number; postMs: number }> {
  const sentAt = performance.now();
  const answer = await ctx.http.call("POST", `${ctx.platform.urls.submission}/api/v1/submissions`, token, { problemId: ctx.problemId, language, code: PROGRAMS[language].ok });
  const id = createdSubmissionId(answer);
  ctx.owners.set(id, token);
  return { id, sentAt, postMs: answer.ms };
}

async function nativeOnce(ctx: Context, language: Language): Promise<{ totalMs: number; compileMs: number }> {
  const answer = await ctx.native.measure({ language, source: PROGRAMS[language].ok, tests: TESTS, memoryLimitMb: MEMORY_LIMIT_MB });
  if (!answer.ok) throw new Error(`native ${language}: ${answer.error}`);
  return answer;
}

/** One at a time, native and pipeline interleaved so both see the same machine load. */
async function measureLanguage(ctx: Context, events: FinalEvents, token: string, language: Language): Promise<LanguageFigures> {
  const figures: LanguageFigures = { language, tests: TEST_COUNT, latencyMs: [], postMs: [], nativeMs: [], nativeCompileMs: [], reportedTimeMs: [], reportedWallMs: [], statuses: {} };
  const statuses: string[] = [];
  for (let round = 0; round < options.warmup + options.runs; round++) {
    const counted = round >= options.warmup;
    const native = await nativeOnce(ctx, language);
    const sent = await submit(ctx, token, language);
    const final = await events.wait(sent.id, FINAL_TIMEOUT_MS);
    if (!counted) continue;
    const results = final.submission.results;
    figures.nativeMs.push(native.totalMs);
    figures.nativeCompileMs.push(native.compileMs);
    figures.latencyMs.push(final.at - sent.sentAt);
    figures.postMs.push(sent.postMs);
    figures.reportedTimeMs.push(results.reduce((sum, r) => sum + r.timeMs, 0));
    if (results.length > 0 && results.every((r) => r.wallTimeMs !== undefined)) figures.reportedWallMs.push(results.reduce((sum, r) => sum + (r.wallTimeMs ?? 0), 0));
    statuses.push(final.submission.status);
  }
  figures.statuses = count(statuses);
  log(`${language}: POST → final ${median(figures.latencyMs).toFixed(0)} ms, native ${median(figures.nativeMs).toFixed(0)} ms`);
  return figures;
}

async function stillPending(ctx: Context, ids: readonly string[]): Promise<string[]> {
  const answers = await Promise.all(ids.map((id) => ctx.http.call("GET", `${ctx.platform.urls.submission}/api/v1/submissions/${id}`, ctx.owners.get(id))));
  return ids.filter((_, i) => {
    const answer = answers[i]!;
    return answer.status === 200 && (JSON.parse(answer.body) as { data?: { status?: string } }).data?.status === "Pending";
  });
}

async function nativeSerialPerSecond(ctx: Context, languages: readonly LanguageFigures[], mix: readonly Language[]): Promise<number> {
  let totalMs = 0;
  const medians = new Map<Language, number>();
  for (const language of new Set(mix)) {
    const known = languages.find((f) => f.language === language);
    const samples = known ? known.nativeMs : [];
    for (let i = samples.length; i < options.runs; i++) samples.push((await nativeOnce(ctx, language)).totalMs);
    medians.set(language, median(samples));
  }
  for (const language of mix) totalMs += medians.get(language)!;
  return mix.length / (totalMs / 1000);
}

async function burst(ctx: Context, languages: readonly LanguageFigures[], redisSamples: RedisBytes[]): Promise<BurstFigures> {
  const mix: Language[] = Array.from({ length: options.burst }, (_, i) => (i % 2 === 0 ? "C" : "PYTHON"));
  const native = await nativeSerialPerSecond(ctx, languages, mix);
  const token = await ctx.platform.token("bench-burst", "user");
  const events = await watchFinalEvents(ctx.platform.urls.socket, token);
  try {
    const started = performance.now();
    const sent = await Promise.all(mix.map((language) => submit(ctx, token, language)));
    const postSeconds = (performance.now() - started) / 1000;
    const ids = sent.map((s) => s.id);
    const queued = await measureQueuedBytes(ctx.platform.redisUrl, ids.slice(-30), (some) => stillPending(ctx, some));
    if (queued) redisSamples.push(queued);
    const finals = await events.waitAll(ids, 900_000);
    const seconds = (Math.max(...finals.map((f) => f.at)) - started) / 1000;
    const cores = availableParallelism();
    const figures: BurstFigures = {
      submissions: mix.length,
      seconds,
      postSeconds,
      perSecond: mix.length / seconds,
      nativeSerialPerSecond: native,
      usableCores: cores,
      targetPerSecond: GOALS.burstShareOfNative * native * cores,
      statuses: count(finals.map((f) => f.submission.status)),
      duplicateFinalEvents: events.duplicates(),
    };
    log(`burst: ${figures.perSecond.toFixed(2)}/s (native serial ${native.toFixed(2)}/s)`);
    return figures;
  } finally {
    events.close();
  }
}

async function ingest(ctx: Context, redisSamples: RedisBytes[]): Promise<IngestFigures> {
  const tokens = await Promise.all(Array.from({ length: options.inFlight }, (_, i) => ctx.platform.token(`bench-ingest-${i}`, "user")));
  const warmupMs = 2_000;
  let measuring = false;
  let stop = false;
  const latencies: number[] = [];
  const statuses: string[] = [];
  const acceptedIds: string[] = [];
  const loop = async (token: string) => {
    while (!stop) {
      const body = { problemId: ctx.problemId, language: "C", code: PROGRAMS.C.ok };
      const answer = await ctx.http.call("POST", `${ctx.platform.urls.submission}/api/v1/submissions`, token, body).catch((error: unknown) => ({ status: 0, body: String(error), ms: 0 }));
      const id = accepted(answer) ? createdSubmissionId(answer) : undefined;
      if (id) ctx.owners.set(id, token);
      if (!measuring) continue;
      statuses.push(String(answer.status));
      if (id) {
        latencies.push(answer.ms);
        acceptedIds.push(id);
      }
    }
  };
  const loops = tokens.map(loop);
  await new Promise((r) => setTimeout(r, warmupMs));
  const memoryBefore = await usedMemory(ctx.platform.redisUrl);
  measuring = true;
  const started = performance.now();
  await new Promise((r) => setTimeout(r, options.ingestSeconds * 1000));
  measuring = false;
  const seconds = (performance.now() - started) / 1000;
  const memoryAfter = await usedMemory(ctx.platform.redisUrl);
  stop = true;
  await Promise.all(loops);
  const queued = await measureQueuedBytes(ctx.platform.redisUrl, acceptedIds.slice(-50), (some) => stillPending(ctx, some));
  if (queued) redisSamples.push(queued);
  const figures: IngestFigures = {
    inFlight: options.inFlight,
    seconds,
    accepted: acceptedIds.length,
    perSecond: acceptedIds.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: Math.max(...latencies),
    statuses: count(statuses),
    redisGrowthBytesPerAccepted: (memoryAfter - memoryBefore) / Math.max(1, acceptedIds.length),
  };
  log(`ingest: ${figures.perSecond.toFixed(0)}/s, p99 ${figures.p99Ms.toFixed(1)} ms`);
  return figures;
}

function mergeRedis(samples: readonly RedisBytes[]): RedisBytes | null {
  if (samples.length === 0) return null;
  // The larger sample speaks for the figure; both are in the JSON's options when verbose runs are compared.
  return [...samples].sort((a, b) => b.samples - a.samples)[0]!;
}

async function main(): Promise<void> {
  const machine = describeMachine(REPO);
  const startedAt = new Date().toISOString();
  log(`${machineLine(machine)}`);
  let platform: BenchPlatform | undefined;
  let native: NativeRunner | undefined;
  const http = createHttpClient(Math.max(64, options.inFlight));
  const sockets: FinalEvents[] = [];
  const cleanup = async () => {
    for (const socket of sockets) socket.close();
    http.close();
    await native?.close().catch(() => undefined);
    await platform?.stop().catch((error: unknown) => log(`stopping the platform: ${String(error)}`));
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.once(signal, () => {
      log(`${signal}: stopping`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  try {
    native = await startNativeRunner({ repoRoot: REPO, rootfs: options.rootfs });
    log(`native runner ready (chroot /bin/true ${native.execFloorMs.toFixed(1)} ms); starting the platform`);
    platform = await startBenchPlatform({ repoRoot: REPO, rootfs: options.rootfs, slots: options.slots, logLevel: args["log-level"]!, keepData: args["keep-data"] === true });
    const admin = await platform.token("bench-admin", "admin");
    const created = await http.call("POST", `${platform.urls.problem}/api/v1/problems`, admin, PROBLEM);
    if (created.status !== 201) throw new Error(`creating the problem: ${created.status} ${created.body.slice(0, 300)}`);
    const problemId = (JSON.parse(created.body) as { data: { _id: string } }).data._id;
    const ctx: Context = { platform, native, http, problemId, owners: new Map() };

    const token = await platform.token("bench-sequential", "user");
    const events = await watchFinalEvents(platform.urls.socket, token);
    sockets.push(events);
    // The first verdict also proves the evaluator is up (its sandbox self-test passed).
    const first = await submit(ctx, token, "PYTHON");
    await events.wait(first.id, FINAL_TIMEOUT_MS);
    log("platform judging; measuring languages");

    const languages: LanguageFigures[] = [];
    for (const language of options.languages) languages.push(await measureLanguage(ctx, events, token, language));
    const redisSamples: RedisBytes[] = [];
    const burstFigures = options.skipBurst || options.burst === 0 ? null : await burst(ctx, languages, redisSamples);
    const ingestFigures = options.skipIngest ? null : await ingest(ctx, redisSamples);

    const report: PipelineReport = {
      startedAt,
      finishedAt: new Date().toISOString(),
      machine: { ...machine, loadEnd: load() },
      options: { ...options },
      platformEnv: platform.env,
      nativeExecFloorMs: native.execFloorMs,
      languages,
      burst: burstFigures,
      ingest: ingestFigures,
      redis: mergeRedis(redisSamples),
    };
    const wrong = [...languages.flatMap((f) => Object.keys(f.statuses)), ...Object.keys(burstFigures?.statuses ?? {})].filter((s) => s !== "Success");
    if (wrong.length > 0) process.exitCode = 1;
    process.stdout.write(
      [
        "",
        `Pipeline benchmark, ${report.startedAt} → ${report.finishedAt}`,
        machineLine(report.machine),
        `platform: embedded (apps/platform), bwrap, EVALUATOR_CONCURRENCY ${options.slots ?? "default"}, rate limits off; native = chroot into ${options.rootfs} (chroot /bin/true ${fmt(native.execFloorMs)} ms)`,
        `A+B with ${TEST_COUNT} tests; ${options.warmup} warm-up + ${options.runs} measured submission(s) per language, one at a time`,
        "",
        languageTable(languages),
        "",
        summaryTable(report),
        ...(wrong.length > 0 ? ["", `NOT every verdict was Success (${wrong.join(", ")}): the figures above are not comparable.`] : []),
        "",
      ].join("\n"),
    );
    if (args.json) {
      writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
      log(`figures written to ${args.json}`);
    }
  } catch (error) {
    if (platform) log(`platform log tail:\n${await platform.logTail()}`);
    throw error;
  } finally {
    await cleanup();
  }
}

const fmt = (ms: number) => ms.toFixed(1);

await main();
