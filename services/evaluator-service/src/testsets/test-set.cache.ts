import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, rename, rm, stat, unlink, utimes, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { z } from "zod";
import { DEFAULT_CHECKER, checkerSchema, interactorSchema, testGroupsSchema, testSetHashSchema, type Checker, type Interactor, type TestGroup, type TestSet } from "@sonocode/contracts";
// The one owner-alive rule (the judge uses it for its own crash recovery): a lease whose pid is gone is stale.
import { processAlive } from "@sonocode/judge";

/**
 * Content-addressed test sets on local disk, shared by every evaluator on the host:
 *
 *   <dir>/sets/<hash>/manifest.json, 0000.in, 0000.out, ...   complete sets only
 *   <dir>/tmp/                                               staging and trash
 *   <dir>/leases/<hash>.<pid>.<random>                        "in use by a live process"
 *
 * A set is written under tmp/ and renamed into sets/ in one step, so a reader sees a
 * whole set or none; two evaluators writing the same hash race harmlessly (the
 * loser's copy is identical and removed). The total size is capped by evicting the
 * least recently used sets (manifest mtime, touched on every use) that no live
 * process holds a lease on. Leases name a pid, so they hold for processes of one
 * host (one pid namespace): evaluators in separate containers need separate dirs.
 */
export interface TestSetCacheOptions {
  dir: string;
  /** Total bytes of test data kept; the least recently used sets go first. */
  maxBytes: number;
  /** A set used this recently is never evicted (covers the gap between touch and lease). */
  minIdleMs?: number;
}

export interface CachedTestSet {
  hash: string;
  count: number;
  bytes: number;
  tests: { inputFile: string; outputFile: string; hidden: boolean; group?: string }[];
  /** The checker the set is judged with (a custom checker's code included); absent only in sets cached before checkers travelled with the tests. */
  checker?: Checker;
  groups?: TestGroup[];
  /** An interactive problem's interactor (its code included). */
  interactor?: Interactor;
}

export interface TestSetLease {
  set: CachedTestSet;
  release(): Promise<void>;
}

export interface TestSetCache {
  /** The cached set with a lease on it (release when judged), or null on a miss. */
  acquire(hash: string): Promise<TestSetLease | null>;
  /** Stores a set already verified against its hash, then evicts down to the cap. */
  put(testSet: TestSet): Promise<void>;
  /** Bytes currently held (sum of manifests). */
  size(): Promise<number>;
}

const manifestSchema = z.object({
  hash: testSetHashSchema,
  count: z.number().int().min(0),
  hidden: z.array(z.boolean()),
  /** Byte size of each file, in order: 0000.in, 0000.out, 0001.in, ... */
  sizes: z.array(z.number().int().min(0)),
  /** Part of the set's version (its hash covers them); absent in manifests written before they travelled with the tests. */
  checker: checkerSchema.optional(),
  groups: testGroupsSchema.optional(),
  testGroups: z.array(z.string().nullable()).optional(),
  interactor: interactorSchema.optional(),
});
type Manifest = z.infer<typeof manifestSchema>;

const MANIFEST = "manifest.json";
const DEFAULT_MIN_IDLE_MS = 60_000;
/** Sets this process has read and verified, kept in memory (see acquire). */
const VERIFIED_KEPT = 256;

function fileName(index: number, kind: "in" | "out"): string {
  return `${String(index).padStart(4, "0")}.${kind}`;
}

function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === "ENOENT" || code === "ENOTDIR";
}

export function createTestSetCache(options: TestSetCacheOptions): TestSetCache {
  // The judge takes test files by absolute host path only: a relative cache dir is resolved once, here.
  const root = resolve(options.dir);
  const setsDir = join(root, "sets");
  const tmpDir = join(root, "tmp");
  const leasesDir = join(root, "leases");
  const minIdleMs = options.minIdleMs ?? DEFAULT_MIN_IDLE_MS;
  /**
   * Sets read and verified by this process, by hash. A hash names one content, and a stored set's
   * files are never rewritten (a broken or evicted set is moved away whole, and a set stored again
   * under its hash holds the same bytes), so once verified here a set need not be read and checked
   * again: acquire() still touches its manifest (which also says whether it is still there) and
   * leases it, but skips the manifest read and the size check of every file.
   */
  const verified = new Map<string, CachedTestSet>();
  const remember = (set: CachedTestSet) => {
    verified.delete(set.hash);
    verified.set(set.hash, set);
    if (verified.size > VERIFIED_KEPT) verified.delete(verified.keys().next().value!);
  };
  let ready: Promise<void> | undefined;
  const ensureDirs = () =>
    (ready ??= Promise.all([setsDir, tmpDir, leasesDir].map((dir) => mkdir(dir, { recursive: true, mode: 0o700 }))).then(() => undefined));

  async function readManifest(hash: string): Promise<Manifest | null> {
    try {
      const manifest = manifestSchema.safeParse(JSON.parse(await readFile(join(setsDir, hash, MANIFEST), "utf8")));
      return manifest.success && manifest.data.hash === hash ? manifest.data : null;
    } catch (error) {
      if (isMissing(error) || error instanceof SyntaxError) return null;
      throw error;
    }
  }

  /** Leases of live processes per hash; leases left by dead processes are removed. */
  async function liveLeases(): Promise<Set<string>> {
    const held = new Set<string>();
    for (const name of await readdir(leasesDir)) {
      const [hash, pid] = name.split(".");
      if (hash && pid && processAlive(Number(pid))) held.add(hash);
      else await unlink(join(leasesDir, name)).catch(() => undefined);
    }
    return held;
  }

  async function remove(path: string): Promise<void> {
    await rm(path, { recursive: true, force: true });
  }

  async function usage(): Promise<{ hash: string; bytes: number; usedAt: number }[]> {
    const entries: { hash: string; bytes: number; usedAt: number }[] = [];
    for (const hash of await readdir(setsDir)) {
      if (!testSetHashSchema.safeParse(hash).success) continue;
      const manifest = await readManifest(hash);
      const info = await stat(join(setsDir, hash, MANIFEST)).catch(() => null);
      if (!manifest || !info) continue;
      entries.push({ hash, bytes: manifest.sizes.reduce((a, b) => a + b, 0), usedAt: info.mtimeMs });
    }
    return entries;
  }

  /**
   * Removes least recently used, unleased, idle sets until the total fits. A set is
   * moved to tmp/ first (readers then see it gone at once); if a reader touched or
   * leased it meanwhile it is moved back instead of deleted.
   */
  async function evict(keep: string): Promise<void> {
    const entries = (await usage()).sort((a, b) => a.usedAt - b.usedAt);
    let total = entries.reduce((sum, entry) => sum + entry.bytes, 0);
    for (const entry of entries) {
      if (total <= options.maxBytes) return;
      if (entry.hash === keep || Date.now() - entry.usedAt < minIdleMs || (await liveLeases()).has(entry.hash)) continue;
      const trash = join(tmpDir, `evict-${entry.hash}-${randomBytes(6).toString("hex")}`);
      try {
        await rename(join(setsDir, entry.hash), trash);
      } catch (error) {
        if (isMissing(error)) continue; // another evaluator evicted it first
        throw error;
      }
      const touched = await stat(join(trash, MANIFEST)).then((info) => info.mtimeMs > entry.usedAt, () => false);
      if (touched || (await liveLeases()).has(entry.hash)) {
        await rename(trash, join(setsDir, entry.hash)).catch(() => remove(trash));
        continue;
      }
      await remove(trash);
      verified.delete(entry.hash);
      total -= entry.bytes;
    }
  }

  return {
    async acquire(hash) {
      if (!testSetHashSchema.safeParse(hash).success) return null; // never a path outside sets/
      await ensureDirs();
      const manifestPath = join(setsDir, hash, MANIFEST);
      const now = new Date();
      try {
        await utimes(manifestPath, now, now); // last use, for LRU; also fences an evictor (see evict)
      } catch (error) {
        if (isMissing(error)) return null;
        throw error;
      }
      const leasePath = join(leasesDir, `${hash}.${process.pid}.${randomBytes(6).toString("hex")}`);
      await writeFile(leasePath, "");
      const release = () => unlink(leasePath).catch(() => undefined);
      const known = verified.get(hash);
      if (known) return { set: known, release };
      const manifest = await readManifest(hash);
      // A set truncated by a crash before its data reached the disk is dropped and fetched again.
      const files = manifest ? manifest.hidden.flatMap((_hidden, index) => [join(setsDir, hash, fileName(index, "in")), join(setsDir, hash, fileName(index, "out"))]) : [];
      const sizes = await Promise.all(files.map((file) => stat(file).then((info) => info.size, () => -1)));
      if (!manifest || manifest.hidden.length !== manifest.count || sizes.some((size, index) => size !== manifest.sizes[index])) {
        await release();
        await rename(join(setsDir, hash), join(tmpDir, `broken-${hash}-${randomBytes(6).toString("hex")}`)).catch(() => undefined);
        return null;
      }
      const set: CachedTestSet = {
        hash,
        count: manifest.count,
        bytes: manifest.sizes.reduce((a, b) => a + b, 0),
        tests: manifest.hidden.map((hidden, index) => {
          const group = manifest.testGroups?.[index];
          return {
            inputFile: join(setsDir, hash, fileName(index, "in")),
            outputFile: join(setsDir, hash, fileName(index, "out")),
            hidden,
            ...(group ? { group } : {}),
          };
        }),
        ...(manifest.checker ? { checker: manifest.checker } : {}),
        ...(manifest.groups ? { groups: manifest.groups } : {}),
        ...(manifest.interactor ? { interactor: manifest.interactor } : {}),
      };
      remember(set);
      return { set, release };
    },

    async put(testSet) {
      await ensureDirs();
      const staging = join(tmpDir, `put-${testSet.hash}-${process.pid}-${randomBytes(6).toString("hex")}`);
      await mkdir(staging, { mode: 0o700 });
      try {
        const sizes: number[] = [];
        for (const [index, test] of testSet.tests.entries()) {
          const input = Buffer.from(test.input, "utf8");
          const output = Buffer.from(test.output, "utf8");
          await writeFile(join(staging, fileName(index, "in")), input);
          await writeFile(join(staging, fileName(index, "out")), output);
          sizes.push(input.length, output.length);
        }
        const manifest: Manifest = {
          hash: testSet.hash,
          count: testSet.tests.length,
          hidden: testSet.tests.map((test) => test.hidden),
          sizes,
          // Always written: a manifest without one is from before checkers travelled with the tests (the job's checker applies).
          checker: testSet.checker ?? DEFAULT_CHECKER,
          ...(testSet.groups ? { groups: testSet.groups } : {}),
          ...(testSet.interactor ? { interactor: testSet.interactor } : {}),
          ...(testSet.tests.some((test) => test.group !== undefined) ? { testGroups: testSet.tests.map((test) => test.group ?? null) } : {}),
        };
        await writeFile(join(staging, MANIFEST), JSON.stringify(manifest));
        try {
          await rename(staging, join(setsDir, testSet.hash));
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          // Another evaluator stored the same content first: keep theirs.
          if (code !== "ENOTEMPTY" && code !== "EEXIST") throw error;
        }
      } finally {
        await remove(staging);
      }
      await evict(testSet.hash);
    },

    async size() {
      await ensureDirs();
      return (await usage()).reduce((sum, entry) => sum + entry.bytes, 0);
    },
  };
}
