// The built-checker cache holds binaries the judge installs as a problem's checker, so a
// directory someone else prepared (it defaults to the shared tmpdir) must never be trusted.
import assert from "node:assert/strict";
import { chmod, chown, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Checker } from "@sonocode/contracts";
import { createBwrapEngine } from "../src/index.js";
import { createCustomCheckerHost } from "../src/custom-checker/custom-checker.js";

const checker: Checker = { type: "custom", protocol: "testlib", language: "C", source: "int main(void) { return 0; }" };
const asRoot = process.getuid?.() === 0;

describe("custom checker cache", () => {
  const engine = createBwrapEngine({});
  const dirs: string[] = [];
  after(async () => {
    await engine.close();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  it("refuses a cache directory owned by another user, before anything is built or read from it", { skip: !asRoot && "needs root to chown" }, async () => {
    const parent = await mkdtemp(join(tmpdir(), "sonocode-checker-cache-"));
    dirs.push(parent);
    const planted = join(parent, "cache");
    await mkdir(planted, { mode: 0o777 });
    // Someone else's directory, holding a "binary" under any name: nothing of it may be used.
    await writeFile(join(planted, "planted.bin"), "#!/bin/sh\nexit 0\n");
    await chown(planted, 12_345, 12_345);
    const host = createCustomCheckerHost({ engine, cacheDir: planted });
    await assert.rejects(host.open(checker), /not a directory owned by the judge/);
    assert.equal(host.stats().builds, 0, "nothing was built into it");
  });

  it("tightens a cache directory of ours that others could read", { skip: !asRoot && "needs root" }, async () => {
    const parent = await mkdtemp(join(tmpdir(), "sonocode-checker-cache-"));
    dirs.push(parent);
    const ours = join(parent, "cache");
    await mkdir(ours);
    await chmod(ours, 0o755);
    const host = createCustomCheckerHost({ engine, cacheDir: ours });
    // A real build in the sandbox: the directory is checked (and fixed) first.
    const opened = await host.open(checker);
    if ("failure" in opened) assert.fail(opened.failure);
    await opened.dispose();
    assert.equal((await stat(ours)).mode & 0o777, 0o700);
  });
});
