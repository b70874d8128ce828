// Review finding of the judge hardening (issue 7) on the Docker engine: a submission's custom
// checker runs in a container pinned to the submission's own CPU, not to the CPU of the slot
// its container takes (another submission's). Skips without a daemon or with one usable CPU.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { createDockerEngine, createJudgeWithEngine } from "../src/index.js";
import { usableCpus } from "../src/sandbox/cgroup/cpuset.js";
import { dockerSkipReason } from "./docker.availability.js";

const unavailable = (await dockerSkipReason(createDockerEngine({}))) ?? (usableCpus().length < 2 ? "one usable CPU: every slot shares it" : null);

test("a custom checker runs on the submission's CPU (docker)", { skip: unavailable ?? false }, async () => {
  const cacheDir = await mkdtemp(join(tmpdir(), "sonocode-pin-docker-test-"));
  const engine = createDockerEngine({});
  const judge = createJudgeWithEngine(engine, { maxConcurrency: 2, checkerCacheDir: cacheDir });
  // Another session holds slot 0: the submission gets slot 1 (CPU 1), its checker's container slot 2 (CPU 0 of 2 without the fix).
  const other = await engine.open();
  try {
    const checker = `import re, sys
mine = re.search(r"Cpus_allowed_list:\\s*(\\S+)", open("/proc/self/status").read()).group(1)
program = open(sys.argv[2]).read().strip()
sys.stderr.write("checker on %s, program on %s" % (mine, program))
sys.exit(0 if mine == program else 1)
`;
    const verdict = await judge.judge({
      language: "PYTHON",
      source: "import re\nprint(re.search(r'Cpus_allowed_list:\\s*(\\S+)', open('/proc/self/status').read()).group(1))\n",
      tests: [{ input: "", output: "" }],
      checker: { type: "custom", protocol: "testlib", language: "PYTHON", source: checker },
    });
    assert.equal(verdict.status, "Success", verdict.results[0]?.checkerMessage ?? JSON.stringify(verdict));
  } finally {
    await other.dispose();
    await judge.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
});
