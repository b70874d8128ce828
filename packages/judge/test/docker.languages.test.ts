// Every language's toolchain on the docker engine (accepted, WA, CE and the per-language
// fast paths from languages.suite.ts): the image is imported from the same rootfs as
// bwrap's, so these catch a toolchain or path that exists only on one side. RE/TLE/MLE per
// language run on bwrap, and on docker through the verdict corpus. Needs a Docker daemon
// and the sonocode-runtime image; skips with the reason otherwise. SONOCODE_TEST_IMAGE:
// another runtime image to test.
import { test } from "node:test";
import { createDockerEngine, createJudge, DEFAULT_DOCKER_IMAGE } from "../src/index.js";
import { dockerSkipReason } from "./docker.availability.js";
import { defineLanguageSuite } from "./languages.suite.js";

const image = process.env.SONOCODE_TEST_IMAGE || DEFAULT_DOCKER_IMAGE;
const unavailable = await dockerSkipReason(createDockerEngine({ image }));

if (unavailable) {
  test("languages (docker)", { skip: unavailable }, () => {});
} else {
  defineLanguageSuite({ engine: "docker", toolchainsOnly: true, makeJudge: () => createJudge({ engine: "docker", dockerImage: image, maxConcurrency: 2 }) });
}
