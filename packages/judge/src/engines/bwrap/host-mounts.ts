// The host filesystems the bwrap engine binds into its sandboxes. Each is a
// filesystem of its own, so /proc/self/mountinfo inside shows "/" as every mount's
// root and our own names as sources: no host path, no block device, no RAM size.
//   - the runtime rootfs, through a read-only overlay whose only layer paths are
//     relative names ("lowerdir=r:e", resolved from a private directory at mount time);
//   - the run helper, alone on a small read-only tmpfs (never the launcher or the
//     seccomp filter, which stay in the helper cache dir on the host);
//   - /dev: a small read-only tmpfs with the five character devices a program needs
//     (bwrap's --dev binds the host's devtmpfs nodes, whose mount shows the RAM size);
//   - each session's work dir: a size-capped tmpfs, so a compile cannot fill the host disk.
// All live under <workRoot>/m-<pid>-<token> (per engine) and <workRoot>/s-<pid>-<token>
// (per session) and are unmounted when done; those of a judge process that is gone
// (crash) are unmounted and removed by the next engine start.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { copyFile, chmod, mkdir, readdir, rm, rmdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { ownerGone, ownerPid } from "../../sandbox/owner.js";

const exec = promisify(execFile);
const PATH_ENV = { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" };
const OWNED = /^[ms]-(\d+)-[0-9a-f]+$/;
const DEVICES: Array<[name: string, major: number, minor: number]> = [
  ["null", 1, 3],
  ["zero", 1, 5],
  ["full", 1, 7],
  ["random", 1, 8],
  ["urandom", 1, 9],
];

function token(): string {
  return `${process.pid}-${randomBytes(6).toString("hex")}`;
}

async function mount(args: string[], cwd?: string): Promise<void> {
  await exec("mount", args, { env: PATH_ENV, cwd });
}

/** Detaches a mount (lazily: a sandbox still starting may hold it) if it is one. */
async function unmount(dir: string): Promise<void> {
  if (!isMountPoint(dir)) return;
  await exec("umount", ["-l", dir], { env: PATH_ENV });
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

function isMountPoint(dir: string): boolean {
  return mountsUnder(dir).includes(dir);
}

export interface EngineMounts {
  /** The rootfs overlay, for --ro-bind ... /. */
  readonly rootfs: string;
  /** The tmpfs holding only the run helper, for --ro-bind ... /run. */
  readonly run: string;
  /** The device tmpfs, for --dev-bind ... /dev. */
  readonly dev: string;
  release(): Promise<void>;
}

/** Mounts the engine's rootfs view, helper and /dev under workRoot. */
export async function mountEngineFilesystems(workRoot: string, rootfs: string, helperBinary: string): Promise<EngineMounts> {
  const base = join(workRoot, `m-${token()}`);
  const dirs = { layers: join(base, "layers"), rootfs: join(base, "rootfs"), run: join(base, "run"), dev: join(base, "dev") };
  await mkdir(base, { mode: 0o711 });
  try {
    for (const dir of Object.values(dirs)) await mkdir(dir, { mode: 0o755 });
    // overlay shows its layers as given: relative names from a private cwd hide the host path.
    await symlink(rootfs, join(dirs.layers, "r"));
    await mkdir(join(dirs.layers, "e"));
    await mount(["-t", "overlay", "sonocode-rootfs", "-o", "ro,lowerdir=r:e", dirs.rootfs], dirs.layers);

    await mount(["-t", "tmpfs", "-o", "size=4m,mode=755,nosuid,nodev", "sonocode-run", dirs.run]);
    await copyFile(helperBinary, join(dirs.run, "run"));
    await chmod(join(dirs.run, "run"), 0o755);
    await mount(["-o", "remount,ro", dirs.run]);

    await mount(["-t", "tmpfs", "-o", "size=64k,nr_inodes=64,mode=755,nosuid", "sonocode-dev", dirs.dev]);
    await exec("sh", ["-c", DEVICES.map(([name, major, minor]) => `mknod -m 666 ${join(dirs.dev, name)} c ${major} ${minor}`).join(" && ")], { env: PATH_ENV });
    await mkdir(join(dirs.dev, "shm"), { mode: 0o755 });
    for (const [name, target] of [["fd", "/proc/self/fd"], ["stdin", "/proc/self/fd/0"], ["stdout", "/proc/self/fd/1"], ["stderr", "/proc/self/fd/2"]] as const) {
      await symlink(target, join(dirs.dev, name));
    }
    await mount(["-o", "remount,ro", dirs.dev]);
  } catch (error) {
    await removeOwned(base).catch(() => undefined);
    throw error;
  }
  return { rootfs: dirs.rootfs, run: dirs.run, dev: dirs.dev, release: () => removeOwned(base) };
}

export interface WorkDir {
  readonly path: string;
  release(): Promise<void>;
}

/** A session's work dir: its own tmpfs (size-capped, mode 0700, owned by the session's host uid). */
export async function mountWorkDir(workRoot: string, uid: number, sizeBytes: number): Promise<WorkDir> {
  const path = join(workRoot, `s-${token()}`);
  await mkdir(path, { mode: 0o700 });
  try {
    await mount(["-t", "tmpfs", "-o", `size=${sizeBytes},mode=700,uid=${uid},gid=${uid},nosuid,nodev`, "sonocode-box", path]);
  } catch (error) {
    await rmdir(path).catch(() => undefined);
    throw error;
  }
  return { path, release: () => removeOwned(path) };
}

/** Unmounts everything under dir, then removes it (never following a symlink). */
async function removeOwned(dir: string): Promise<void> {
  for (const point of mountsUnder(dir)) await unmount(point);
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
