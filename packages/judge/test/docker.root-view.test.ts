// Review finding (root-view.c runs as root on the host): a pid that is not a container's
// init (the init died and its pid was reused, or a wrong caller) must be refused before the
// helper touches any mount, or it would move the host's own mounts and pivot the host's root.
// The target and the helper run inside a throwaway mount namespace of their own, so a
// regression damages only that namespace. Needs root, gcc and unshare (skips otherwise).
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { promisify } from "node:util";
import { ensureRootView } from "../src/engines/docker/root-view.js";

const exec = promisify(execFile);
const has = (tool: string) => spawnSync(tool, ["--version"], { stdio: "ignore" }).status === 0;
const unavailable = process.getuid?.() !== 0 ? "needs root" : !has("gcc") ? "needs gcc" : !has("unshare") ? "needs unshare" : null;

test("root-view refuses a pid in its own mount namespace", { skip: unavailable ?? false }, async () => {
  const workRoot = await mkdtemp(join(tmpdir(), "sonocode-root-view-test-"));
  try {
    const helper = await ensureRootView(workRoot);
    // A process sharing the helper's mount namespace stands in for a reused pid.
    const script = `sleep 30 & p=$!; "$1" "$p"; rc=$?; kill "$p"; exit "$rc"`;
    const outcome = await exec("unshare", ["--mount", "--propagation", "private", "sh", "-c", script, "sh", helper], { timeout: 20_000 }).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code?: number; stderr?: string }) => ({ code: error.code ?? -1, stderr: error.stderr ?? "" }),
    );
    assert.equal(outcome.code, 1);
    assert.match(outcome.stderr, /^setns: the process is in this mount namespace, not a container's$/m);
  } finally {
    await rm(workRoot, { recursive: true, force: true });
  }
});
