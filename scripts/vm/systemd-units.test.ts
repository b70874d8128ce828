// deploy/systemd's two units under real systemd (PID 1) in the cgroup v2 test guest: run by
// scripts/vm/guest-systemd.sh (npm run test:vm -- --systemd) as root, after it made the user
// "sonocode" with its subordinate ids as the unit's header says; skipped everywhere else (it
// installs units and writes /etc/sonocode).
//
// For each unit, installed as /etc/systemd/system/sonocode-evaluator.service with
// /etc/sonocode/evaluator.env, started with `systemctl enable --now`: its /health reports the
// bwrap sandbox up; real BullMQ jobs in C (the tests by reference, fetched with a service token
// signed with the env file's JWT_SECRET into the unit's test-set cache) come back Success and WA;
// from outside, the
// main process runs as the unit's user in the unit's cgroup (in its leaf sonocode-judge when
// unprivileged), and a program seen
// while it runs sits in a run group below the runs' parent (the unit's own delegated group when
// unprivileged, /sonocode when root) under a uid of its slot, never the evaluator's; `systemctl
// stop` ends it cleanly and leaves no run group behind.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { authenticateService } from "@sonocode/auth";
import type { SubmissionJob, TestSet } from "@sonocode/contracts";
import { testSetContentHash } from "@sonocode/contracts/test-set-hash";
import { SubmissionServiceDouble, objectId, submissionJob } from "../../services/evaluator-service/test/helpers.js";

const CG = "/sys/fs/cgroup";
const UNIT = "sonocode-evaluator";
const UNIT_FILE = `/etc/systemd/system/${UNIT}.service`;
const ENV_FILE = "/etc/sonocode/evaluator.env";
const REDIS_URL = "redis://127.0.0.1:6379";
const PREFIX = "sonocode";
const PROBLEM_PORT = 4001;
const EVALUATOR_URL = "http://127.0.0.1:4004";
/** Where the units keep the test-set cache (CacheDirectory=sonocode-evaluator). */
const CACHE_DIR = "/var/cache/sonocode-evaluator/test-sets";
/** Under TCG the evaluator's start (tsx, the judge's helpers built with gcc) takes minutes. */
const START_TIMEOUT_MS = 900_000;
const JOB_TIMEOUT_MS = 600_000;

const AB_OK = '#include <stdio.h>\nint main(void) { long a, b; if (scanf("%ld %ld", &a, &b) != 2) return 1; printf("%ld\\n", a + b); return 0; }\n';
const AB_WRONG = AB_OK.replace("a + b", "a - b");
/** Sleeps 1.5 s (wall, no CPU) before answering, so the test can see it from outside while it runs. */
const AB_SLOW = AB_OK.replace("#include <stdio.h>\n", "#include <stdio.h>\n#include <unistd.h>\n").replace("printf", "usleep(1500000); printf");

function skipReason(): string | false {
  if (process.env.SONOCODE_TEST_SYSTEMD !== "1") return "only in the systemd plan of the cgroup v2 test guest (npm run test:vm -- --systemd)";
  if (process.getuid?.() !== 0) return "installs units: run as root";
  if (readFileSync("/proc/1/comm", "utf8").trim() !== "systemd") return "systemd is not PID 1";
  if (!process.env.JWT_SECRET) return "JWT_SECRET (shared with the evaluator's env file) is not set";
  return false;
}
const skip = skipReason();
const secret = process.env.JWT_SECRET ?? "";
const project = new URL("../..", import.meta.url).pathname;

const sh = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: "utf8" }).trim();
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function show(...props: string[]): Record<string, string> {
  const out = sh("systemctl", "show", UNIT, ...props.map((p) => `--property=${p}`));
  return Object.fromEntries(out.split("\n").map((line) => line.split(/=(.*)/s).slice(0, 2) as [string, string]));
}

function journal(lines = 40): string {
  try {
    return sh("journalctl", "-u", UNIT, "--no-pager", "-o", "cat", "-n", String(lines));
  } catch (error) {
    return `(no journal: ${String(error)})`;
  }
}

/** The real uid of a process (first field of Uid: in /proc/<pid>/status), or null once it is gone. */
function uidOf(pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("Uid:"));
    return line ? Number(line.split(/\s+/)[1]) : null;
  } catch {
    return null;
  }
}

function cgroupOf(pid: number): string {
  return readFileSync(`/proc/${pid}/cgroup`, "utf8").split("\n").find((l) => l.startsWith("0::"))?.slice(3) ?? "";
}

interface Seen {
  group: string;
  pid: number;
  uid: number;
  comm: string;
}

/** Every process in a cgroup subtree (paths relative to the mount), with its uid and name. */
function processesBelow(dir: string, out: Seen[] = []): Seen[] {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  try {
    for (const pid of readFileSync(join(dir, "cgroup.procs"), "utf8").split("\n").filter(Boolean).map(Number)) {
      const uid = uidOf(pid);
      let comm = "";
      try {
        comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
      } catch {
        continue;
      }
      if (uid !== null) out.push({ group: dir.slice(CG.length), pid, uid, comm });
    }
  } catch {
    return out;
  }
  for (const entry of entries) if (statSync(join(dir, entry), { throwIfNoEntry: false })?.isDirectory()) processesBelow(join(dir, entry), out);
  return out;
}

const tests = [
  { input: "1 2\n", output: "3\n", hidden: false },
  { input: "5 7\n", output: "12\n", hidden: false },
  { input: "100 -1\n", output: "99\n", hidden: true },
];
const problemId = objectId();
const testSet: TestSet = { problemId, hash: testSetContentHash({ tests }), tests };
/** Test-set requests answered (each one carried a valid service token). */
let served = 0;
let server: Server;
let submissions: SubmissionServiceDouble;

/**
 * problem-service's test-set endpoint (GET /internal/v1/problems/:id/test-set/:hash, a service
 * token signed with JWT_SECRET), for one problem. Not the real service: its PGlite store (a large
 * WebAssembly module) crashes node under TCG more often than not.
 */
function testSetServer(): Server {
  return createServer((req, res) => {
    const reply = (status: number, body: unknown) => res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    authenticateService(req.headers.authorization, secret).then(
      () => {
        if (req.method !== "GET" || req.url !== `/internal/v1/problems/${problemId}/test-set/${testSet.hash}`) return reply(404, { success: false, message: "not found", error: { code: "NOT_FOUND" }, data: {} });
        served += 1;
        return reply(200, { success: true, message: "test set", error: {}, data: testSet });
      },
      () => reply(401, { success: false, message: "unauthorized", error: { code: "UNAUTHORIZED" }, data: {} }),
    );
  });
}

before(async () => {
  if (skip) return;
  server = testSetServer().listen(PROBLEM_PORT, "127.0.0.1");
  await new Promise((resolve) => server.once("listening", resolve));
  submissions = new SubmissionServiceDouble(REDIS_URL, PREFIX);
});

after(async () => {
  if (skip) return;
  await submissions.close();
  await new Promise((resolve) => server.close(resolve));
});

/** A SubmissionQueue job as submission-service builds it: C, the problem's tests by reference. */
function cJob(source: string): Omit<SubmissionJob, "testCases"> {
  const { testCases: _inline, ...job } = submissionJob({ problemId, language: "C", source, timeLimitMs: 2_000 });
  return { ...job, testSet: { problemId, hash: testSet.hash, count: tests.length } };
}

async function judged(source: string) {
  const job = cJob(source);
  await submissions.enqueue(job, { jobId: job.submissionId });
  const results = await submissions.settledResults(job.submissionId, JOB_TIMEOUT_MS, 200);
  assert.equal(results.length, 1, "exactly one result");
  return results[0]!;
}

async function startUnit(file: string): Promise<void> {
  copyFileSync(join(project, "deploy/systemd", file), UNIT_FILE);
  mkdirSync("/etc/sonocode", { recursive: true });
  writeFileSync(
    ENV_FILE,
    [`REDIS_URL=${REDIS_URL}`, `REDIS_PREFIX=${PREFIX}`, `JWT_SECRET=${secret}`, `PROBLEM_SERVICE_URL=http://127.0.0.1:${PROBLEM_PORT}`, "SANDBOX_ENGINE=bwrap", "EVALUATOR_CONCURRENCY=1", ""].join("\n"),
    { mode: 0o600 },
  );
  sh("systemctl", "daemon-reload");
  sh("systemctl", "enable", "--now", UNIT);
  const started = Date.now();
  let reported = started;
  // The same sandbox failure for this long is an answer, not a slow start (self-tests repeat every
  // 10 s); a self-test that timed out is slowness (TCG), which only the overall timeout judges.
  let failing = null as { reason: string; since: number } | null;
  for (;;) {
    const { ActiveState, SubState } = show("ActiveState", "SubState");
    if (ActiveState === "failed") assert.fail(`${UNIT} failed to start:\n${journal()}`);
    let state = "not listening";
    try {
      const response = await fetch(`${EVALUATOR_URL}/health`);
      const body = (await response.json()) as { data?: { sandbox?: string; sandboxReason?: string; engine?: string; outOfRotation?: boolean } };
      if (body.data?.sandbox === "up" && body.data.outOfRotation === false) {
        assert.equal(body.data.engine, "bwrap");
        console.log(`# ${file}: healthy ${Math.round((Date.now() - started) / 1000)} s after systemctl enable --now`);
        return;
      }
      const reason = /timed out/.test(body.data?.sandboxReason ?? "") ? "" : (body.data?.sandboxReason ?? "");
      state = `sandbox ${body.data?.sandbox}: ${body.data?.sandboxReason ?? ""}`;
      if (reason && failing?.reason === reason) {
        if (Date.now() - failing.since > 60_000) assert.fail(`${UNIT}'s sandbox keeps failing: ${reason}\n${journal()}`);
      } else failing = reason ? { reason, since: Date.now() } : null;
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
    }
    if (Date.now() - started > START_TIMEOUT_MS) assert.fail(`${UNIT} (${ActiveState}/${SubState}, ${state}) not healthy in ${START_TIMEOUT_MS} ms:\n${journal()}`);
    if (Date.now() - reported > 60_000) {
      reported = Date.now();
      console.log(`# ${file}: ${ActiveState}/${SubState}, ${state} (${Math.round((reported - started) / 1000)} s)`);
    }
    await sleep(2_000);
  }
}

async function stopUnit(runParent: string): Promise<void> {
  sh("systemctl", "disable", "--now", UNIT);
  const { ActiveState, Result } = show("ActiveState", "Result");
  assert.equal(ActiveState, "inactive", journal());
  assert.equal(Result, "success", `a clean stop (SIGTERM, the worker drained):\n${journal()}`);
  assert.equal(existsSync(`${CG}/system.slice/${UNIT}.service`), false, "the unit's cgroup is gone");
  const left = existsSync(runParent) ? readdirSync(runParent).filter((name) => name.startsWith("run")) : [];
  assert.deepEqual(left, [], `no run group left in ${runParent}`);
}

const UNIT_GROUP = `/system.slice/${UNIT}.service`;
/**
 * ownGroup: where the evaluator's own processes sit. Unprivileged, the judge enables controllers
 * in the unit's group for its runs, so it moves itself into a leaf first; as root on v2 its runs
 * go to /sonocode at the top of the hierarchy (like Docker's cgroupfs driver) and it stays put.
 */
const VARIANTS = [
  { file: "sonocode-evaluator.service", user: "sonocode", ownGroup: `${UNIT_GROUP}/sonocode-judge`, runParent: `${CG}${UNIT_GROUP}/sonocode` },
  { file: "sonocode-evaluator-root.service", user: "root", ownGroup: UNIT_GROUP, runParent: `${CG}/sonocode` },
] as const;

for (const variant of VARIANTS) {
  test(`${variant.file} under systemd: judges as ${variant.user}, in its delegated cgroup, and stops cleanly`, { skip, timeout: 1_800_000 }, async () => {
    const uid = Number(sh("id", "-u", variant.user));
    try {
      await checkUnit(variant, uid);
    } finally {
      // Whatever happened, the next variant starts from a stopped unit.
      execFileSync("systemctl", ["disable", "--now", UNIT], { stdio: "ignore" });
    }
  });
}

async function checkUnit(variant: (typeof VARIANTS)[number], uid: number): Promise<void> {
  await startUnit(variant.file);
  const unitGroup = UNIT_GROUP;
  const mainPid = Number(show("MainPID").MainPID);
  assert.ok(mainPid > 0, "a main process");
  assert.equal(uidOf(mainPid), uid, `the evaluator runs as ${variant.user}`);
  assert.equal(cgroupOf(mainPid), variant.ownGroup, "the evaluator's own group");
  assert.equal(statSync(`${CG}${unitGroup}`).uid, uid, `Delegate=yes: the unit's group belongs to ${variant.user}`);

  const ok = await judged(AB_OK);
  assert.equal(ok.status, "Success", JSON.stringify(ok));
  assert.equal(ok.passed, 3);
  const wrong = await judged(AB_WRONG);
  assert.equal(wrong.status, "WA", JSON.stringify(wrong));
  assert.equal(wrong.failedTest?.index, 0);
  // The tests came over HTTP (the env file's secret signed the token) into the unit's cache (CacheDirectory=, TEST_SET_CACHE_DIR).
  assert.ok(served >= 1, "the evaluator fetched the test set");
  assert.ok(existsSync(join(CACHE_DIR, "sets", testSet.hash, "manifest.json")), `the test set is cached in ${CACHE_DIR}`);
  assert.equal(statSync(CACHE_DIR).uid, uid, `the cache belongs to ${variant.user}`);

  // A slow program, watched from outside while it runs: where it sits and under which uid.
  const slow = cJob(AB_SLOW);
  await submissions.enqueue(slow, { jobId: slow.submissionId });
  const seen: Seen[] = [];
  while (!submissions.results.has(slow.submissionId)) {
    for (const dir of new Set([`${CG}${unitGroup}`, variant.runParent])) seen.push(...processesBelow(dir));
    await sleep(100);
  }
  const [slowResult] = await submissions.settledResults(slow.submissionId, JOB_TIMEOUT_MS, 200);
  assert.equal(slowResult?.status, "Success", JSON.stringify(slowResult));
  const programs = seen.filter((p) => p.comm === "main");
  assert.ok(programs.length > 0, `the program seen while it ran (seen: ${JSON.stringify([...new Set(seen.map((p) => `${p.comm}@${p.group}:${p.uid}`))])})`);
  for (const p of programs) {
    assert.ok(p.group.startsWith(`${variant.runParent.slice(CG.length)}/run`), `the program runs in a run group below ${variant.runParent}: ${p.group}`);
    assert.notEqual(p.uid, uid, "never as the evaluator's own uid");
    if (variant.user === "root") assert.ok(p.uid >= 61_000 && p.uid < 62_000, `a slot uid 61000 + slot: ${p.uid}`);
    else assert.ok(p.uid >= 200_000 && p.uid < 265_536, `a subordinate id of sonocode's range: ${p.uid}`);
  }
  const where = [...new Set(programs.map((p) => `uid ${p.uid} in ${p.group}`))].join(", ");
  console.log(`# ${variant.file}: evaluator pid ${mainPid} uid ${uid} in ${variant.ownGroup}; the program seen running as ${where}; cache ${CACHE_DIR} (uid ${uid})`);
  // Nothing of the evaluator's own sits outside its leaf or the run groups.
  for (const p of seen.filter((s) => s.group.startsWith(unitGroup))) {
    assert.ok(p.group === variant.ownGroup || p.group.startsWith(`${unitGroup}/sonocode/`), `${p.comm} (${p.pid}) in ${p.group}`);
  }
  await stopUnit(variant.runParent);
}
