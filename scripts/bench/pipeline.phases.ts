// The pipeline benchmark's phases, each against a running platform through its public API
// only: per-language latency next to the native cost, the burst, the ingest, and the Redis
// bytes of real queued submissions.
import { availableParallelism } from "node:os";
import type { Language } from "@sonocode/contracts";
import { PROGRAMS } from "../../packages/judge/test/solutions.js";
import type { ClientTimes } from "./breakdown.js";
import type { NativeRunner } from "./native.js";
import { startBenchPlatform, type BenchPlatform, type BenchPlatformOptions } from "./platform.child.js";
import { postRequest, RawConnection } from "../../services/submission-service/bench/raw-http.client.js";
import { accepted, createdSubmissionId, watchFinalEvents, type FinalEvents, type HttpClient } from "./pipeline.client.js";
import { cpuPerSubmission, sampleCpu } from "./process-cpu.js";
import { measureQueuedBytes, usedMemory, type RedisBytes } from "./redis-bytes.js";
import { GOALS, median, percentile, type BurstFigures, type IngestFigures, type LanguageFigures } from "./report.js";

export const TEST_COUNT = 10;
const MEMORY_LIMIT_MB = 256;
const FINAL_TIMEOUT_MS = 300_000;
const BURST_TIMEOUT_MS = 900_000;
const INGEST_WARMUP_MS = 2_000;

/** A+B, ten tests (three visible, seven hidden), some sums negative. */
export const TESTS = Array.from({ length: TEST_COUNT }, (_, i) => ({ input: `${i * 37} ${i * 11 - 20}\n`, output: `${i * 48 - 20}\n`, hidden: i > 2 }));
const PROBLEM = { title: "A + B (pipeline bench)", description: "Print a + b.", difficulty: "easy", testCases: TESTS, codeStubs: [] };

export interface PhaseOptions {
  warmup: number;
  runs: number;
  burst: number;
  /** Submissions judged, unmeasured, before the burst: a fresh platform's JIT warm-up and first use are not the steady state. */
  burstWarmup: number;
  ingestSeconds: number;
  inFlight: number;
}

export interface Context {
  platform: BenchPlatform;
  native: NativeRunner;
  http: HttpClient;
  problemId: string;
  /** The sequential user's socket (its token is `token`). */
  events: FinalEvents;
  token: string;
  /** Owner token of every submission posted, for GET. */
  owners: Map<string, string>;
  options: PhaseOptions;
}

export const log = (line: string) => process.stderr.write(`[bench:pipeline] ${line}\n`);
const count = (list: readonly string[]) => list.reduce<Record<string, number>>((acc, s) => ((acc[s] = (acc[s] ?? 0) + 1), acc), {});

/**
 * Starts a platform, creates the problem through problem-service's admin API and waits for
 * one verdict (which also proves the evaluator's sandbox self-test passed). The caller
 * stops ctx.platform and closes ctx.events.
 */
export async function openPlatform(base: { native: NativeRunner; http: HttpClient; options: PhaseOptions }, platformOptions: BenchPlatformOptions): Promise<Context> {
  const platform = await startBenchPlatform(platformOptions);
  try {
    const admin = await platform.token("bench-admin", "admin");
    const created = await base.http.call("POST", `${platform.urls.problem}/api/v1/problems`, admin, PROBLEM);
    if (created.status !== 201) throw new Error(`creating the problem: ${created.status} ${created.body.slice(0, 300)}`);
    const problemId = (JSON.parse(created.body) as { data: { _id: string } }).data._id;
    const token = await platform.token("bench-sequential", "user");
    const events = await watchFinalEvents(platform.urls.socket, token);
    const ctx: Context = { ...base, platform, problemId, events, token, owners: new Map() };
    try {
      const first = await submit(ctx, token, "PYTHON");
      await events.wait(first.id, FINAL_TIMEOUT_MS);
    } catch (error) {
      events.close();
      throw error;
    }
    return ctx;
  } catch (error) {
    log(`platform log tail:\n${await platform.logTail()}`);
    await platform.stop();
    throw error;
  }
}

async function submit(ctx: Context, token: string, language: Language): Promise<{ id: string; sentAt: number; sentAtEpoch: number; postMs: number }> {
  const sentAtEpoch = Date.now();
  const sentAt = performance.now();
  const answer = await ctx.http.call("POST", `${ctx.platform.urls.submission}/api/v1/submissions`, token, { problemId: ctx.problemId, language, code: PROGRAMS[language].ok });
  const id = createdSubmissionId(answer);
  ctx.owners.set(id, token);
  return { id, sentAt, sentAtEpoch, postMs: answer.ms };
}

async function nativeOnce(native: NativeRunner, language: Language): Promise<{ totalMs: number; compileMs: number }> {
  const answer = await native.measure({ language, source: PROGRAMS[language].ok, tests: TESTS, memoryLimitMb: MEMORY_LIMIT_MB });
  if (!answer.ok) throw new Error(`native ${language}: ${answer.error}`);
  return answer;
}

/**
 * One at a time, native and pipeline interleaved round by round so both see the same machine load.
 * `clients` collects each measured submission's epoch times, for --breakdown.
 */
export async function measureLanguage(ctx: Context, language: Language, clients?: ClientTimes[]): Promise<LanguageFigures> {
  const figures: LanguageFigures = { language, tests: TEST_COUNT, latencyMs: [], postMs: [], nativeMs: [], nativeCompileMs: [], reportedTimeMs: [], reportedWallMs: [], statuses: {} };
  const statuses: string[] = [];
  for (let round = 0; round < ctx.options.warmup + ctx.options.runs; round++) {
    const native = await nativeOnce(ctx.native, language);
    const sent = await submit(ctx, ctx.token, language);
    const final = await ctx.events.wait(sent.id, FINAL_TIMEOUT_MS);
    if (round < ctx.options.warmup) continue;
    clients?.push({ submissionId: sent.id, sentAt: sent.sentAtEpoch, acceptedAt: sent.sentAtEpoch + sent.postMs, finalAt: sent.sentAtEpoch + (final.at - sent.sentAt) });
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

/** Native submissions/s one after another for this mix, from the per-language medians (measured here when missing). */
export async function nativeSerialPerSecond(native: NativeRunner, runs: number, known: readonly LanguageFigures[], mix: readonly Language[]): Promise<number> {
  const medians = new Map<Language, number>();
  for (const language of new Set(mix)) {
    const samples = [...(known.find((f) => f.language === language)?.nativeMs ?? [])];
    while (samples.length < runs) samples.push((await nativeOnce(native, language)).totalMs);
    medians.set(language, median(samples));
  }
  const totalMs = mix.reduce((sum, language) => sum + medians.get(language)!, 0);
  return mix.length / (totalMs / 1000);
}

export const BURST_MIX = (size: number): Language[] => Array.from({ length: size }, (_, i) => (i % 2 === 0 ? "C" : "PYTHON"));

/** Every submission of the mix POSTed at once; end to end = first POST sent -> last final event. */
export async function burst(ctx: Context, nativeSerial: number, slots: number | null, redisSamples: RedisBytes[]): Promise<BurstFigures> {
  const mix = BURST_MIX(ctx.options.burst);
  const token = await ctx.platform.token("bench-burst", "user");
  const events = await watchFinalEvents(ctx.platform.urls.socket, token);
  try {
    if (ctx.options.burstWarmup > 0) {
      // A long-running platform has paid its JIT and first-use costs (about a quarter of the
      // launcher's CPU per submission in a cold two-slot burst, perf 2026-12-03): judge a small
      // burst first, unmeasured, so the figures are the steady state.
      const warm = await Promise.all(BURST_MIX(ctx.options.burstWarmup).map((language) => submit(ctx, token, language)));
      await events.waitAll(warm.map((s) => s.id), BURST_TIMEOUT_MS);
    }
    const cpuBefore = sampleCpu(ctx.platform.pids());
    const started = performance.now();
    const sent = await Promise.all(mix.map((language) => submit(ctx, token, language)));
    const postSeconds = (performance.now() - started) / 1000;
    const ids = sent.map((s) => s.id);
    const queued = await measureQueuedBytes(ctx.platform.redisUrl, ids.slice(-30), (some) => stillPending(ctx, some));
    if (queued) redisSamples.push(queued);
    const finals = await events.waitAll(ids, BURST_TIMEOUT_MS);
    const cpu = cpuPerSubmission(cpuBefore, sampleCpu(ctx.platform.pids()), mix.length);
    const seconds = (Math.max(...finals.map((f) => f.at)) - started) / 1000;
    const cores = availableParallelism();
    const figures: BurstFigures = {
      slots,
      submissions: mix.length,
      seconds,
      postSeconds,
      perSecond: mix.length / seconds,
      nativeSerialPerSecond: nativeSerial,
      usableCores: cores,
      targetPerSecond: GOALS.burstShareOfNative * nativeSerial * cores,
      statuses: count(finals.map((f) => f.submission.status)),
      duplicateFinalEvents: events.duplicates(),
      cpuMsPerSubmission: cpu,
      reportedMs: [...new Set(mix)].map((language) => {
        const results = finals.filter((f) => f.submission.language === language).map((f) => f.submission.results);
        const walls = results.filter((r) => r.length > 0 && r.every((t) => t.wallTimeMs !== undefined));
        return {
          language,
          cpuMs: median(results.map((r) => r.reduce((sum, t) => sum + t.timeMs, 0))),
          wallMs: walls.length === results.length ? median(walls.map((r) => r.reduce((sum, t) => sum + (t.wallTimeMs ?? 0), 0))) : null,
        };
      }),
    };
    log(`burst (EVALUATOR_CONCURRENCY ${slots ?? "default"}): ${figures.perSecond.toFixed(2)}/s (native serial ${nativeSerial.toFixed(2)}/s)`);
    return figures;
  } finally {
    events.close();
  }
}

/** inFlight loops POSTing C submissions for ingestSeconds (after a warm-up); the backlog they build keeps the evaluator judging. */
export async function ingest(ctx: Context, redisSamples: RedisBytes[]): Promise<IngestFigures> {
  const { inFlight, ingestSeconds } = ctx.options;
  const tokens = await Promise.all(Array.from({ length: inFlight }, (_, i) => ctx.platform.token(`bench-ingest-${i}`, "user")));
  const url = new URL(`${ctx.platform.urls.submission}/api/v1/submissions`);
  const body = JSON.stringify({ problemId: ctx.problemId, language: "C", code: PROGRAMS.C.ok });
  let measuring = false;
  let stop = false;
  const latencies: number[] = [];
  const statuses: string[] = [];
  const acceptedIds: string[] = [];
  // The load generator shares the machine's cores with the platform: a bare keep-alive socket per
  // connection (the ingest bench's client) costs a fraction of node:http's client per request.
  const loop = async (token: string) => {
    const connection = new RawConnection(url);
    const request = postRequest(url, token, body);
    try {
      while (!stop) {
        const started = performance.now();
        const reply = await connection.send(request).catch((error: unknown) => ({ status: 0, body: String(error) }));
        const ms = performance.now() - started;
        const answer = { ...reply, ms };
        const id = accepted(answer) ? createdSubmissionId(answer) : undefined;
        if (id) ctx.owners.set(id, token);
        if (!measuring) continue;
        statuses.push(String(answer.status));
        if (id) {
          latencies.push(ms);
          acceptedIds.push(id);
        }
      }
    } finally {
      connection.close();
    }
  };
  const loops = tokens.map(loop);
  await new Promise((resolve) => setTimeout(resolve, INGEST_WARMUP_MS));
  const memoryBefore = await usedMemory(ctx.platform.redisUrl);
  const judgedBefore = await judgedSoFar(ctx.platform.urls.evaluator);
  const cpuBefore = sampleCpu(ctx.platform.pids());
  measuring = true;
  const started = performance.now();
  await new Promise((resolve) => setTimeout(resolve, ingestSeconds * 1000));
  measuring = false;
  const seconds = (performance.now() - started) / 1000;
  const judgedAfter = await judgedSoFar(ctx.platform.urls.evaluator);
  const cpuAfter = sampleCpu(ctx.platform.pids());
  const memoryAfter = await usedMemory(ctx.platform.redisUrl);
  stop = true;
  await Promise.all(loops);
  const queued = await measureQueuedBytes(ctx.platform.redisUrl, acceptedIds.slice(-50), (some) => stillPending(ctx, some));
  if (queued) redisSamples.push(queued);
  const figures: IngestFigures = {
    inFlight,
    seconds,
    accepted: acceptedIds.length,
    perSecond: acceptedIds.length / seconds,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.length > 0 ? Math.max(...latencies) : Number.NaN,
    statuses: count(statuses),
    redisGrowthBytesPerAccepted: (memoryAfter - memoryBefore) / Math.max(1, acceptedIds.length),
    judgedPerSecond: judgedBefore === null || judgedAfter === null ? null : (judgedAfter - judgedBefore) / seconds,
    cpuMsPerAccepted: cpuPerSubmission(cpuBefore, cpuAfter, Math.max(1, acceptedIds.length)),
  };
  log(`ingest: ${figures.perSecond.toFixed(0)}/s, p99 ${figures.p99Ms.toFixed(1)} ms`);
  return figures;
}

/** Submissions the evaluator judged so far (its judge-duration histogram's count), or null without it. */
async function judgedSoFar(evaluatorUrl: string): Promise<number | null> {
  const text = await fetch(`${evaluatorUrl}/metrics`).then((r) => r.text(), () => "");
  const line = /^sonocode_evaluator_judge_duration_seconds_count (\d+)$/m.exec(text);
  return line ? Number(line[1]) : null;
}
