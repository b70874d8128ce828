// Host filesystems the engines make for their sandboxes (tmpfs and overlay mounts
// under the work root), and their cleanup. Each is a filesystem of its own, so
// mountinfo inside a sandbox shows "/" (or a path inside our own tmpfs) as its root
// and our own name as its source: never a host path, block device or RAM size.
// Names are <kind>-<pid>-<hex>: those of a judge process that is gone (crash) are
// unmounted and removed by the next engine start (removeStaleMounts).
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ownerGone, ownerPid } from "./owner.js";

const exec = promisify(execFile);
const PATH_ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
const OWNED = /^[a-z]-(\d+)-[0-9a-f]+$/;

/** A fresh owned path under workRoot: <kind>-<pid>-<hex>. */
export function ownedPath(workRoot: string, kind: "m" | "d"): string {
  return join(workRoot, `${kind}-${process.pid}-${randomBytes(6).toString("hex")}`);
}

export async function mount(args: string[], cwd?: string): Promise<void> {
  await exec("mount", args, { env: PATH_ENV, cwd });
}

/** Shell commands on constant strings only (mknod has no Node API). */
export async function runHostCommand(command: string, args: string[]): Promise<void> {
  await exec(command, args, { env: PATH_ENV });
}

/** A tmpfs of its own at dir (created). */
export async function mountTmpfs(dir: string, name: string, options: string): Promise<void> {
  await mkdir(dir, { mode: 0o755 });
  await mount(["-t", "tmpfs", "-o", options, name, dir]);
}

/** Mount points under `dir` (itself included), deepest first. */
function mountsUnder(dir: string): string[] {
  const points: string[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const point = line.split(" ")[4]?.replace(/\\040/g, " ");
    if (point && (point === dir || point.startsWith(`${dir}/`))) points.push(point);
  }
  return points.sort((a, b) => b.length - a.length);
}

/** Detaches one mount point (what still holds it keeps it). */
export async function unmountLazily(point: string): Promise<void> {
  await exec("umount", ["-l", point], { env: PATH_ENV });
}

/** Unmounts everything under dir (lazily: a sandbox still starting may hold it), then removes it, never following a symlink. */
export async function removeOwned(dir: string): Promise<void> {
  for (const point of mountsUnder(dir)) await unmountLazily(point);
  if (mountsUnder(dir).length > 0) throw new Error(`cannot unmount ${dir}`);
  if (existsSync(dir)) await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** Crash recovery: mounts and dirs under workRoot owned by judge processes that are gone. Returns how many. */
export async function removeStaleMounts(workRoot: string): Promise<number> {
  let removed = 0;
  let names: string[] = [];
  try {
    names = await readdir(workRoot);
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!ownerGone(ownerPid(name, OWNED))) continue;
    try {
      await removeOwned(join(workRoot, name));
      removed++;
    } catch {
      /* left for the next start */
    }
  }
  return removed;
}
