// A judge runtime root that a test can break and repair for real, without touching the real one.
import { execFile } from "node:child_process";
import { chmod, mkdir, mkdtemp, rmdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export const RUNTIME_ROOTFS = "/var/lib/sonocode/runtime/rootfs";

export interface BreakableRootfs {
  /** Give this to the judge as its rootfs (SANDBOX_ROOTFS). */
  path: string;
  /** Unmounts it: the judge's rootfs is now an empty directory, as after a lost or wiped volume. */
  break(): Promise<void>;
  /** Mounts the real runtime there again (a no-op while it is mounted). */
  repair(): Promise<void>;
  /** Unmounts (if mounted) and removes the mount point. */
  dispose(): Promise<void>;
}

/**
 * A read-only bind mount of the runtime rootfs at a private path. Needs root (as the bwrap judge
 * does). Unmounted (from the start, or by break()) it is an empty directory: no mock, the engine
 * meets exactly what a missing runtime looks like. A judge that already opened the runtime may
 * keep its own reference (the bwrap engine layers an overlay on it), so break a judge by
 * starting it on a broken rootfs.
 */
export async function createBreakableRootfs(options: { source?: string; mounted?: boolean } = {}): Promise<BreakableRootfs> {
  const source = options.source ?? RUNTIME_ROOTFS;
  const root = await mkdtemp(join(tmpdir(), "sonocode-rootfs-"));
  // The sandbox binds it as an unprivileged uid, which must be able to reach it (mkdtemp gives 0700).
  await chmod(root, 0o755);
  const path = join(root, "rootfs");
  await mkdir(path);
  let mounted = false;
  const mount = async () => {
    if (mounted) return;
    await run("mount", ["--bind", source, path]);
    mounted = true;
    // A second step: bind mounts take read-only only on remount.
    await run("mount", ["-o", "remount,bind,ro", path]);
  };
  const unmount = async () => {
    if (!mounted) return;
    // Lazy: a sandbox starting right now may hold it; it is detached at once and freed after.
    await run("umount", ["-l", path]);
    mounted = false;
  };
  // Unmounted from the start: what an evaluator meets when its runtime volume is missing at boot.
  if (options.mounted ?? true) await mount();
  return {
    path,
    break: unmount,
    repair: mount,
    async dispose() {
      await unmount();
      // Never recursive: if the runtime were still mounted here, this fails instead of wiping it.
      await rmdir(path);
      await rmdir(root);
    },
  };
}
