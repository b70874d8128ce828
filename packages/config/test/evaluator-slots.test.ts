// The evaluator's slot count defaults to the usable cores (issue 9: throughput scales
// with cores, one pinned CPU per slot); an explicit value still wins and is bounded.
import assert from "node:assert/strict";
import { availableParallelism } from "node:os";
import { it } from "node:test";
import { loadConfig, sandboxEnvSchema } from "../src/index.js";

it("EVALUATOR_CONCURRENCY defaults to the usable cores, and an explicit value wins", () => {
  assert.equal(loadConfig(sandboxEnvSchema, {}).EVALUATOR_CONCURRENCY, Math.min(64, availableParallelism()));
  assert.equal(loadConfig(sandboxEnvSchema, { EVALUATOR_CONCURRENCY: "3" }).EVALUATOR_CONCURRENCY, 3);
  assert.throws(() => loadConfig(sandboxEnvSchema, { EVALUATOR_CONCURRENCY: "0" }));
});
