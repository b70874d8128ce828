// The attack corpus against the docker engine: the very cases bwrap.attacks.test.ts
// runs, through createJudge({ engine: "docker" }). Needs a Docker daemon and the
// sonocode-runtime image (scripts/runtime/docker-image.sh); skips with the reason otherwise.
import { test } from "node:test";
import { createDockerEngine, createJudge } from "../src/index.js";
import { defineAttackSuite } from "./attacks.suite.js";
import { dockerSkipReason } from "./docker.availability.js";

const unavailable = await dockerSkipReason(createDockerEngine({}));

if (unavailable) {
  test("attack corpus (docker)", { skip: unavailable }, () => {});
} else {
  defineAttackSuite({
    engine: "docker",
    makeJudge: () => createJudge({ engine: "docker", maxConcurrency: 2 }),
    makeEngine: () => createDockerEngine({}),
  });
}
