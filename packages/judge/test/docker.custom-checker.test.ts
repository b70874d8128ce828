// The same custom-checker suite on the docker engine; skips with the reason without a daemon.
import { test } from "node:test";
import { createDockerEngine } from "../src/index.js";
import { defineCustomCheckerSuite } from "./custom-checker.suite.js";
import { dockerSkipReason } from "./docker.availability.js";

const unavailable = await dockerSkipReason(createDockerEngine({}));

if (unavailable) {
  test("custom checkers (docker)", { skip: unavailable }, () => {});
} else {
  defineCustomCheckerSuite({ engine: "docker", makeEngine: () => createDockerEngine({}) });
}
