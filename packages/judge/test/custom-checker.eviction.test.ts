// The built-checker cache is bounded (least recently used binaries go first, never one in use
// or used within the grace period) and keyed by the runtime the binaries were built against.
// Real builds in the bwrap sandbox; the pruning rules also on plain files.
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { Checker } from "@sonocode/contracts";
import { createBwrapEngine, type SandboxEngine } from "../src/index.js";
import { pruneCheckerCache } from "../src/custom-checker/checker-cache.js";
import { createCustomCheckerHost } from "../src/custom-checker/custom-checker.js";

/** A testlib checker in C that accepts everything; `n` makes each one a different content. */
function checker(n: number): Checker {
  return { type: "custom", protocol: "testlib", language: "C", source: `int main(void) { return ${n} * 0; }\n` };
}
const TEST = { input: "1\n", output: "1\n", hidden: false } as const;
const asRoot = process.getuid?.() === 0;
const bins = async (dir: string) => (await readdir(dir)).filter((name) => name.endsWith(".bin")).sort();

describe("custom checker cache: eviction and runtime identity", { skip: !asRoot && "the bwrap engine needs root" }, () => {
  const engine = createBwrapEngine({});
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), "sonocode-checker-evict-"));
    dirs.push(dir);
    return join(dir, "cache");
  };
  after(async () => {
    await engine.close();
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function judgeOnce(host: ReturnType<typeof createCustomCheckerHost>, which: Checker): Promise<void> {
    const opened = await host.open(which);
    if ("failure" in opened) assert.fail(opened.failure);
    try {
      const decision = await opened.check(TEST, Buffer.from("1\n"));
      assert.equal(decision.kind, "verdict");
    } finally {
      await opened.dispose();
    }
  }

  it("keeps at most maxEntries binaries, evicting the least recently used; an evicted checker is built again and still judges", async () => {
    const cacheDir = await tempDir();
    const host = createCustomCheckerHost({ engine, cacheDir, cacheBounds: { maxEntries: 2, graceMs: 0 } });
    await judgeOnce(host, checker(1));
    await judgeOnce(host, checker(2));
    const [first, second] = await Promise.all([bins(cacheDir), host.stats()]);
    assert.equal(first.length, 2);
    assert.equal(second.builds, 2);
    // checker 1 is used again (touched), so checker 2 is now the least recently used.
    await new Promise((resolve) => setTimeout(resolve, 20));
    await judgeOnce(host, checker(1));
    assert.equal(host.stats().builds, 2, "a cached binary is reused, not rebuilt");
    const beforeThird = await bins(cacheDir);
    await judgeOnce(host, checker(3));
    const afterThird = await bins(cacheDir);
    assert.equal(afterThird.length, 2, "the bound holds");
    const evicted = beforeThird.filter((name) => !afterThird.includes(name));
    assert.equal(evicted.length, 1);
    // Checker 2 was evicted: using it again rebuilds it (the in-process memo notices the file is gone).
    await judgeOnce(host, checker(2));
    assert.equal(host.stats().builds, 4);
    assert.equal((await bins(cacheDir)).length, 2);
  });

  it("a binary built against another runtime is never reused: the rootfs identity is part of the key", async () => {
    const cacheDir = await tempDir();
    const identity = await engine.runtimeIdentity!();
    assert.match(identity, /^bwrap:\/.*rootfs/, "the resolved rootfs tree names the runtime");
    await judgeOnce(createCustomCheckerHost({ engine, cacheDir }), checker(7));
    // The same engine seen as another runtime (a rebuilt rootfs): same checker, another key.
    const rebuilt: SandboxEngine = { ...engine, runtimeIdentity: async () => `${identity}:rebuilt` };
    const other = createCustomCheckerHost({ engine: rebuilt, cacheDir });
    await judgeOnce(other, checker(7));
    assert.equal(other.stats().builds, 1, "built again, not taken from the cache");
    assert.equal((await bins(cacheDir)).length, 2);
    // And the original runtime still finds its own binary.
    const again = createCustomCheckerHost({ engine, cacheDir });
    await judgeOnce(again, checker(7));
    assert.equal(again.stats().builds, 0);
  });
});

describe("pruneCheckerCache", () => {
  it("honours both bounds oldest first, never removes binaries in use or inside the grace period, and clears stale staging files", async () => {
    const dir = await mkdtemp(join(tmpdir(), "sonocode-checker-prune-"));
    try {
      const now = Date.now();
      const files: [string, number, number][] = [
        ["a.bin", 100, now - 50_000],
        ["b.bin", 100, now - 40_000],
        ["c.bin", 100, now - 30_000],
        ["d.bin", 100, now - 1_000],
        ["e.bin.123.abc.tmp", 10, now - 2 * 3_600_000],
        ["f.bin.456.def.tmp", 10, now - 1_000],
      ];
      for (const [name, size, at] of files) {
        await writeFile(join(dir, name), Buffer.alloc(size));
        await utimes(join(dir, name), new Date(at), new Date(at));
      }
      // Two entries allowed: a is in use, d is inside the grace period, so b and c go.
      const removed = await pruneCheckerCache(dir, { maxEntries: 2, maxBytes: 1 << 30, graceMs: 10_000 }, new Set(["a.bin"]), now);
      assert.deepEqual(removed.sort(), ["b.bin", "c.bin", "e.bin.123.abc.tmp"]);
      assert.deepEqual((await readdir(dir)).sort(), ["a.bin", "d.bin", "f.bin.456.def.tmp"]);
      // The byte bound alone: 150 bytes allow one binary; a (oldest, no longer in use) goes.
      assert.deepEqual(await pruneCheckerCache(dir, { maxEntries: 10, maxBytes: 150, graceMs: 10_000 }, new Set(), now), ["a.bin"]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
