// Embedded mode's evaluator is a real child process: killed for real mid-judge it is restarted
// and the submission is still judged right; the launcher's own SIGKILL leaves no orphan behind;
// SIGTERM stops both in order; a bad config is refused by the child's schema.
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { signToken } from "@sonocode/auth";
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
let socket: ClientSocket | undefined;

before(async () => {
  platform = await startTestPlatform(uniqueName("evalproc"));
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

test("a config the child's schema refuses fails the start with the reason", async () => {
  const bad = {
    host: "127.0.0.1",
    port: 0,
    redisUrl: testRedisUrl(),
    prefix: uniqueName("badcfg"),
    jwtSecret: "too-short",
    problemServiceUrl: "http://127.0.0.1:1",
    sandbox: { engine: "bwrap" as const },
    concurrency: 1,
    testSetCache: { dir: "/tmp/unused-test-sets", maxBytes: 1 << 20 },
    logLevel: "silent" as const,
    drainTimeoutMs: 1_000,
  };
  await assert.rejects(startEvaluatorProcess({ config: bad, logger: silentLogger() }), /exited during start-up \(code 1/);
});

/** The launcher as `npm start` runs it, as a real process; resolves with the evaluator's pid from its start-up log line. */
async function startLauncher(): Promise<{ launcher: ChildProcess; evaluatorPid: number; exited: Promise<number | null> }> {
  const launcher = spawn(process.execPath, ["--import", "tsx", "apps/platform/src/main.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: "production",
      LOG_LEVEL: "info",
      JWT_SECRET: TEST_JWT_SECRET,
      REDIS_URL: testRedisUrl(),
      REDIS_PREFIX: uniqueName("launcher"),
      DATA_DIR: ":memory:",
      SEED: "false",
      SANDBOX_ENGINE: "bwrap",
      PROBLEM_SERVICE_PORT: "0",
      SUBMISSION_SERVICE_PORT: "0",
      SOCKET_SERVICE_PORT: "0",
      EVALUATOR_PORT: "0",
      SHUTDOWN_TIMEOUT_MS: "5000",
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => launcher.once("exit", (code) => resolve(code)));
  let buffered = "";
  const evaluatorPid = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the launcher did not come up")), 90_000);
    launcher.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString();
      for (const line of buffered.split("\n")) {
        if (!line.includes('"SonoCode is up"')) continue;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { evaluatorPid: number }).evaluatorPid);
      }
    });
    launcher.once("exit", (code) => reject(new Error(`the launcher exited with ${code}`)));
  });
  launcher.stdout!.resume();
  return { launcher, evaluatorPid, exited };
}

test("SIGKILL of the launcher: its evaluator process leaves on its own (no orphan)", async () => {
  const { launcher, evaluatorPid, exited } = await startLauncher();
  assert.ok(alive(evaluatorPid));
  launcher.kill("SIGKILL");
  await exited;
  const killedAt = Date.now();
  await eventually(() => !alive(evaluatorPid), "the orphaned evaluator to exit", 15_000);
  console.log(`[evaluator-process] launcher SIGKILL: evaluator gone ${Date.now() - killedAt} ms later`);
});

test("SIGTERM of the launcher: the evaluator drains and exits first, the launcher exits 0", async () => {
  const { launcher, evaluatorPid, exited } = await startLauncher();
  launcher.kill("SIGTERM");
  assert.equal(await exited, 0);
  assert.equal(alive(evaluatorPid), false, "the evaluator is gone when the launcher has exited");
});
