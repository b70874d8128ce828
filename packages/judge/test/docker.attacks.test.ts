// The attack corpus against the docker engine: the very cases bwrap.attacks.test.ts
// runs, through createJudge({ engine: "docker" }). Needs a Docker daemon and the
// sonocode-runtime image (scripts/runtime/docker-image.sh); skips with the reason otherwise.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createDockerEngine, createJudge } from "../src/index.js";
import { ATTACKS, defineAttackSuite } from "./attacks.corpus.js";

// One deliberate difference: under bwrap, kill(-1) also kills the program's own
// supervisor (same uid), so the run ends in RE. In the container nothing else runs as
// the program's uid (init is uid 65533), so kill(-1) hits nobody - Linux never signals
// the caller itself - and the program goes on to print SAFE. Both prove the point of
// the case: the judge survives and the next submission is judged normally.
const killAll = ATTACKS.find((a) => a.name === "kill(-1)");
if (killAll) {
  killAll.check = (verdict) => assert.ok(["RE", "Success"].includes(verdict.status), `kill(-1) ended in ${verdict.status}`);
}

const unavailable = await createDockerEngine({})
  .check()
  .then(
    () => null,
    (err: unknown) => `docker engine unavailable: ${err instanceof Error ? err.message : String(err)}`,
  );

if (unavailable) {
  test("attack corpus (docker)", { skip: unavailable }, () => {});
} else {
  defineAttackSuite({
    engine: "docker",
    makeJudge: () => createJudge({ engine: "docker", maxConcurrency: 2 }),
    makeEngine: () => createDockerEngine({}),
  });
}
