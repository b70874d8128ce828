// The verdict corpus against the docker engine: the very cases bwrap.verdicts.test.ts runs.
// Needs a Docker daemon and the sonocode-runtime image; skips with the reason otherwise.
import { test } from "node:test";
import { createDockerEngine, createJudge } from "../src/index.js";
import { dockerSkipReason } from "./docker.availability.js";
import { defineVerdictSuite } from "./verdicts.corpus.js";

const unavailable = await dockerSkipReason(createDockerEngine({}));

if (unavailable) {
  test("verdict corpus (docker)", { skip: unavailable }, () => {});
} else {
  defineVerdictSuite({ engine: "docker", makeJudge: () => createJudge({ engine: "docker", maxConcurrency: 2 }) });
}
