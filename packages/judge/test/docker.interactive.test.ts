// The Docker engine runs no paired runs (yet): an interactive problem is IE with that
// reason, at once and never retried, and never judged as a plain problem. Skips without a daemon.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createDockerEngine, createJudgeWithEngine } from "../src/index.js";
import { dockerSkipReason } from "./docker.availability.js";
import { PROGRAMS, testlibInteractor } from "./interactive.fixtures.js";

const unavailable = await dockerSkipReason(createDockerEngine({}));

test("interactive problems on docker are refused as IE", { skip: unavailable ?? false }, async () => {
  const cacheDir = await mkdtemp(join(tmpdir(), "sonocode-interactor-docker-test-"));
  const judge = createJudgeWithEngine(createDockerEngine({}), { maxConcurrency: 1, checkerCacheDir: cacheDir });
  try {
    const verdict = await judge.judge({ language: "PYTHON", source: PROGRAMS.right, tests: [{ input: "5\n", output: "" }], interactor: testlibInteractor });
    assert.equal(verdict.status, "IE");
    assert.match(verdict.message ?? "", /sandbox engine cannot run interactive problems/);
    assert.deepEqual(verdict.results, []);
  } finally {
    await judge.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
});
