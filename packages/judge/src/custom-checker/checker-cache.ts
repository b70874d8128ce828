// The on-disk cache of built custom checkers (one `<key>.bin` per checker content, engine and
// runtime), bounded by count and bytes. Least recently used first: every use touches the
// binary's mtime (atime is unreliable under relatime/noatime), and eviction removes the oldest.
// Several evaluators on one host may share the directory, so nothing another process may be
// about to install is removed: entries this process has in use, and any used within a grace
// period, are kept whatever the bounds (the bound is then exceeded until they age).
import { readdir, rm, stat, utimes } from "node:fs/promises";
import { join } from "node:path";

export interface CheckerCacheBounds {
  /** Binaries kept at most (default 256). */
  maxEntries: number;
  /** Bytes of binaries kept at most (default 512 MiB). */
  maxBytes: number;
  /** A binary used this recently is never evicted (default 10 minutes): another process may be installing it. */
  graceMs: number;
}

export const CHECKER_CACHE_DEFAULTS: CheckerCacheBounds = { maxEntries: 256, maxBytes: 512 * 1024 * 1024, graceMs: 10 * 60_000 };

/** A staging file older than this was left by a process that died mid-write. */
const STALE_STAGING_MS = 60 * 60_000;

interface Entry {
  name: string;
  bytes: number;
  usedAt: number;
}

/** Marks a binary as just used (LRU order). A binary removed meanwhile is the caller's to rebuild. */
export async function touchCachedBinary(path: string): Promise<boolean> {
  const now = new Date();
  return utimes(path, now, now).then(
    () => true,
    () => false,
  );
}

/**
 * Removes the least recently used binaries until both bounds hold, never one named in `inUse`
 * (file names) or used within the grace period; also removes staging files a dead process left.
 * Returns the names removed. Errors on single entries (a concurrent prune removed it) are ignored.
 */
export async function pruneCheckerCache(dir: string, bounds: CheckerCacheBounds, inUse: ReadonlySet<string>, now = Date.now()): Promise<string[]> {
  const names = await readdir(dir);
  const entries: Entry[] = [];
  const removed: string[] = [];
  for (const name of names) {
    const info = await stat(join(dir, name)).catch(() => null);
    if (!info?.isFile()) continue;
    if (name.endsWith(".tmp")) {
      if (now - info.mtimeMs > STALE_STAGING_MS && (await rm(join(dir, name), { force: true }).then(() => true, () => false))) removed.push(name);
      continue;
    }
    if (name.endsWith(".bin")) entries.push({ name, bytes: info.size, usedAt: info.mtimeMs });
  }
  let count = entries.length;
  let bytes = entries.reduce((sum, entry) => sum + entry.bytes, 0);
  // Oldest use first; the name breaks ties so concurrent prunes agree on the order.
  entries.sort((a, b) => a.usedAt - b.usedAt || a.name.localeCompare(b.name));
  for (const entry of entries) {
    if (count <= bounds.maxEntries && bytes <= bounds.maxBytes) break;
    if (inUse.has(entry.name) || now - entry.usedAt < bounds.graceMs) continue;
    await rm(join(dir, entry.name), { force: true }).catch(() => undefined);
    removed.push(entry.name);
    count -= 1;
    bytes -= entry.bytes;
  }
  return removed;
}
