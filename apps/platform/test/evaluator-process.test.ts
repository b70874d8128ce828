// Embedded mode's evaluator is a real child process: killed for real mid-judge it is restarted
// and the submission is still judged right; the launcher's own SIGKILL leaves no orphan behind;
// SIGTERM stops both in order; a bad config is refused by the child's schema; judged programs run at a lower CPU priority.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signToken } from "@sonocode/auth";
import { DEFAULT_SANDBOX_NICE } from "@sonocode/config";
import { silentLogger } from "@sonocode/logger";
import { eventually, testRedisUrl, uniqueName } from "@sonocode/testkit";
import { startEvaluatorProcess } from "../src/evaluator/evaluator.supervisor.js";
import type { Platform } from "../src/platform.js";
import { AB_PROBLEM, TEST_JWT_SECRET, call, connectSocket, startTestPlatform, type ClientSocket } from "./helpers.js";

const ROOT = new URL("../../..", import.meta.url).pathname;
/** 0.4 s per test, 3 tests: long enough to be killed in the middle. */
const PYTHON_SLOW_OK = "import time\na, b = map(int, input().split())\ntime.sleep(0.4)\nprint(a + b)\n";

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

let platform: Platform;
/** This process's nice value before the platform started: the launcher must keep it. */
const launcherNice = niceOf(readFileSync("/proc/self/stat", "utf8"));
let socket: ClientSocket | undefined;

/** Short enough for a test, long enough that a loaded machine's scheduling stalls (~1 s seen) never trip it. */
const HANG_TIMEOUT_MS = 6_000;

before(async () => {
  platform = await startTestPlatform(uniqueName("evalproc"), { evaluatorSupervision: { hangTimeoutMs: HANG_TIMEOUT_MS } });
});

after(async () => {
  socket?.disconnect();
  await platform?.close();
});

test("kill -9 of the evaluator process mid-judge: the launcher restarts it on the same URL and the submission is judged right", async () => {
  const [admin, user] = await Promise.all([signToken({ sub: "admin", role: "admin" }, TEST_JWT_SECRET), signToken({ sub: "ivy", role: "user" }, TEST_JWT_SECRET)]);
  const created = await call(platform.urls.problem, "POST", "/api/v1/problems", { token: admin, body: AB_PROBLEM });
  assert.equal(created.status, 201);
  socket = await connectSocket(platform.urls.socket, user);
  const progress: number[] = [];
  const finals: any[] = [];
  socket.on("submission:progress", (event) => progress.push(event.passed));
  socket.on("submissionPayloadResponse", (result) => finals.push(result));

  const firstPid = platform.evaluator.pid;
  assert.ok(firstPid && firstPid !== process.pid, "the evaluator is another process");
  const submitted = await call(platform.urls.submission, "POST", "/api/v1/submissions", {
    token: user,
    body: { problemId: created.body.data._id, language: "python", code: PYTHON_SLOW_OK },
  });
  assert.equal(submitted.status, 201);
  await eventually(() => progress.some((passed) => passed >= 1), "the submission to be mid-judge", 60_000);

  const killedAt = Date.now();
  process.kill(firstPid, "SIGKILL");
  const restarted = await eventually(() => (platform.evaluator.pid && platform.evaluator.pid !== firstPid ? platform.evaluator.pid : null), "a new evaluator process", 30_000);
  const restartMs = Date.now() - killedAt;
  assert.equal(platform.evaluator.restarts, 1);
  await eventually(() => finals.length > 0, "the final verdict", 60_000);
  const recoveredMs = Date.now() - killedAt;
  console.log(`[evaluator-process] kill -9 mid-judge: new process ready ${restartMs} ms and final verdict ${recoveredMs} ms after the kill`);
  assert.equal(finals[0]._id, submitted.body.data.submission._id);
  assert.equal(finals[0].status, "Success");
  assert.equal(finals[0].passed, 3);
  const health = await fetch(`${platform.urls.evaluator}/health`);
  assert.equal(health.status, 200, "the restarted evaluator answers on the same URL");
  assert.ok(alive(restarted));
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(finals.length, 1, "one final event");
});

test("a wedged evaluator process (SIGSTOP: alive, silent) is killed and replaced; judging resumes", async () => {
  const [admin, user] = await Promise.all([signToken({ sub: "admin", role: "admin" }, TEST_JWT_SECRET), signToken({ sub: "jay", role: "user" }, TEST_JWT_SECRET)]);
  const created = await call(platform.urls.problem, "POST", "/api/v1/problems", { token: admin, body: AB_PROBLEM });
  const wedged = platform.evaluator.pid!;
  const restartsBefore = platform.evaluator.restarts;
  process.kill(wedged, "SIGSTOP");
  const stoppedAt = Date.now();
  const replacement = await eventually(() => (platform.evaluator.pid && platform.evaluator.pid !== wedged ? platform.evaluator.pid : null), "a replacement process", 60_000);
  console.log(`[evaluator-process] SIGSTOPped evaluator replaced ${Date.now() - stoppedAt} ms later (hang timeout ${HANG_TIMEOUT_MS} ms)`);
  assert.ok(Date.now() - stoppedAt >= HANG_TIMEOUT_MS - 1_500, "not killed before its silence reached the timeout");
  assert.equal(platform.evaluator.restarts, restartsBefore + 1);
  await eventually(() => !alive(wedged), "the wedged process to be gone", 10_000);
  const submitted = await call(platform.urls.submission, "POST", "/api/v1/submissions", { token: user, body: { problemId: created.body.data._id, language: "python", code: "a, b = map(int, input().split())\nprint(a + b)\n" } });
  assert.equal(submitted.status, 201);
  const final = await eventually(async () => {
    const got = await call(platform.urls.submission, "GET", `/api/v1/submissions/${submitted.body.data.submission._id}`, { token: user });
    return ["Pending", "Running"].includes(got.body.data.status) ? null : got.body.data;
  }, "a final state", 60_000);
  assert.equal(final.status, "Success");
  assert.ok(alive(replacement));
});

/** Field 19 of /proc/<pid>/task/<tid>/stat (the command name before it may hold spaces). */
function niceOf(statText: string): number {
  return Number(statText.slice(statText.lastIndexOf(")") + 2).split(" ")[16]);
}

test("judged programs run at SANDBOX_NICE; the (restarted) evaluator process and the launcher keep their priority", async () => {
  const pid = platform.evaluator.pid!;
  const tids = readdirSync(`/proc/${pid}/task`);
  assert.ok(tids.length > 1, "a Node process has several threads");
  for (const tid of tids) assert.equal(niceOf(readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8")), launcherNice, `evaluator thread ${tid}`);
  assert.equal(niceOf(readFileSync("/proc/self/stat", "utf8")), launcherNice, "the launcher (this process) is not reniced");

  // The judged program reports its own nice value (its /proc is the sandbox's own) as its answer.
  const [admin, user] = await Promise.all([signToken({ sub: "admin", role: "admin" }, TEST_JWT_SECRET), signToken({ sub: "kim", role: "user" }, TEST_JWT_SECRET)]);
  const problem = { ...AB_PROBLEM, title: "Own nice value", testCases: [{ input: "\n", output: `${DEFAULT_SANDBOX_NICE}\n` }] };
  const created = await call(platform.urls.problem, "POST", "/api/v1/problems", { token: admin, body: problem });
  assert.equal(created.status, 201);
  const code = "stat = open('/proc/self/stat').read()\nprint(stat[stat.rindex(')') + 2:].split()[16])\n";
  const submitted = await call(platform.urls.submission, "POST", "/api/v1/submissions", { token: user, body: { problemId: created.body.data._id, language: "python", code } });
  assert.equal(submitted.status, 201);
  const final = await eventually(async () => {
    const got = await call(platform.urls.submission, "GET", `/api/v1/submissions/${submitted.body.data.submission._id}`, { token: user });
    return ["Pending", "Running"].includes(got.body.data.status) ? null : got.body.data;
  }, "a final state", 60_000);
  assert.equal(final.status, "Success", JSON.stringify(final.failedTest ?? final.message));
});

test("a config the child's schema refuses fails the start with the reason", async () => {
  const bad = {
    host: "127.0.0.1",
    port: 0,
    redisUrl: testRedisUrl(),
    prefix: uniqueName("badcfg"),
    jwtSecret: "too-short",
    problemServiceUrl: "http://127.0.0.1:1",
    sandbox: { engine: "bwrap" as const, nice: 0 },
    concurrency: 1,
    testSetCache: { dir: "/tmp/unused-test-sets", maxBytes: 1 << 20 },
    logLevel: "silent" as const,
    drainTimeoutMs: 1_000,
  };
  await assert.rejects(startEvaluatorProcess({ config: bad, logger: silentLogger() }), /exited during start-up \(code 1/);
});

interface Launcher {
  launcher: ChildProcess;
  evaluatorPid: number;
  /** The launcher's own redis-server, when it started one. */
  redisPid?: number;
  exited: Promise<number | null>;
}

/**
 * The launcher as `npm start` runs it, as a real process, on an external Redis or (with a
 * dataDir) its own redis-server; resolves once it serves, with the pids from its start-up log.
 */
async function startLauncher(dataDir?: string): Promise<Launcher> {
  const launcher = spawn(process.execPath, ["--import", "tsx", "apps/platform/src/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      LOG_LEVEL: "info",
      JWT_SECRET: TEST_JWT_SECRET,
      REDIS_URL: dataDir ? "" : testRedisUrl(),
      REDIS_PREFIX: uniqueName("launcher"),
      DATA_DIR: dataDir ?? ":memory:",
      SEED: "false",
      SANDBOX_ENGINE: "bwrap",
      PROBLEM_SERVICE_PORT: "0",
      SUBMISSION_SERVICE_PORT: "0",
      SOCKET_SERVICE_PORT: "0",
      EVALUATOR_PORT: "0",
      // The web server too: a fixed port clashes with any other platform on the machine.
      WEB_PORT: "0",
      SHUTDOWN_TIMEOUT_MS: "5000",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => launcher.once("exit", (code) => resolve(code)));
  let buffered = "";
  let redisPid: number | undefined;
  const up = await new Promise<{ evaluatorPid: number; urls: { submission: string } }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the launcher did not come up")), 180_000);
    launcher.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        if (line.includes('"local redis-server started"')) redisPid = (JSON.parse(line) as { pid: number }).pid;
        if (!line.includes('"SonoCode is up"')) continue;
        clearTimeout(timer);
        resolve(JSON.parse(line) as { evaluatorPid: number; urls: { submission: string } });
      }
    });
    launcher.once("exit", (code) => reject(new Error(`the launcher exited with ${code}`)));
  });
  // An answered request means the start-up code after that log line (signal wiring) has run.
  await eventually(async () => (await fetch(`${up.urls.submission}/health`).catch(() => null))?.status === 200, "the launcher to serve", 30_000);
  return { launcher, evaluatorPid: up.evaluatorPid, ...(redisPid ? { redisPid } : {}), exited };
}

test("SIGKILL of the launcher: its evaluator process and its redis-server leave on their own (no orphan)", async () => {
  const dataDir = await mkdtemp(join(tmpdir(), "sonocode-launcher-"));
  try {
    const { launcher, evaluatorPid, redisPid, exited } = await startLauncher(dataDir);
    assert.ok(redisPid, "the launcher started its own redis-server");
    assert.ok(alive(evaluatorPid) && alive(redisPid));
    launcher.kill("SIGKILL");
    await exited;
    const killedAt = Date.now();
    await eventually(() => !alive(evaluatorPid) && !alive(redisPid), "the orphans to exit", 15_000);
    console.log(`[evaluator-process] launcher SIGKILL: evaluator and redis-server gone ${Date.now() - killedAt} ms later`);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});

test("SIGTERM of the launcher: the evaluator drains and exits first, the launcher exits 0", async () => {
  const { launcher, evaluatorPid, exited } = await startLauncher();
  launcher.kill("SIGTERM");
  assert.equal(await exited, 0);
  assert.equal(alive(evaluatorPid), false, "the evaluator is gone when the launcher has exited");
});
