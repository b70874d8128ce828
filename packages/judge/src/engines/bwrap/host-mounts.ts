// The host filesystems the bwrap engine's supervisors bind into their sandbox views
// (see sandbox/host-mounts.ts for why each is a filesystem of its own):
//   - the runtime rootfs, through a read-only overlay whose only layer paths are
//     relative names ("lowerdir=r:e", resolved from a private directory at mount time);
//   - /dev: a small read-only tmpfs with the five character devices a program needs
//     (bwrap's --dev binds the host's devtmpfs nodes, whose mount shows the RAM size);
//   - each session's work dir: a size-capped tmpfs, so a compile cannot fill the host disk.
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { mount, mountTmpfs, ownedPath, removeMountPoint, removeOwned, runHostCommand } from "../../sandbox/host-mounts.js";

const DEVICES: Array<[name: string, major: number, minor: number]> = [
  ["null", 1, 3],
  ["zero", 1, 5],
  ["full", 1, 7],
  ["random", 1, 8],
  ["urandom", 1, 9],
];

export interface EngineMounts {
  /** The rootfs overlay, bound read-only as /. */
  readonly rootfs: string;
  /** The device tmpfs, bound read-only as /dev. */
  readonly dev: string;
  release(): Promise<void>;
}

/** Mounts the engine's rootfs view and /dev under workRoot/m-<pid>-<hex>. */
export async function mountEngineFilesystems(workRoot: string, rootfs: string): Promise<EngineMounts> {
  const base = ownedPath(workRoot, "m");
  const dirs = { layers: join(base, "layers"), rootfs: join(base, "rootfs"), dev: join(base, "dev") };
  await mkdir(base, { mode: 0o711 });
  try {
    await mkdir(dirs.layers, { mode: 0o700 });
    await mkdir(dirs.rootfs, { mode: 0o755 });
    // overlay shows its layers as given: relative names from a private cwd hide the host path.
    await symlink(rootfs, join(dirs.layers, "r"));
    await mkdir(join(dirs.layers, "e"));
    await mount(["-t", "overlay", "sonocode-rootfs", "-o", "ro,lowerdir=r:e", dirs.rootfs], dirs.layers);

    await mountTmpfs(dirs.dev, "sonocode-dev", "size=64k,nr_inodes=64,mode=755,nosuid");
    await runHostCommand("sh", ["-c", DEVICES.map(([name, major, minor]) => `mknod -m 666 ${join(dirs.dev, name)} c ${major} ${minor}`).join(" && ")]);
    await mkdir(join(dirs.dev, "shm"), { mode: 0o755 });
    for (const [name, target] of [["fd", "/proc/self/fd"], ["stdin", "/proc/self/fd/0"], ["stdout", "/proc/self/fd/1"], ["stderr", "/proc/self/fd/2"]] as const) {
      await symlink(target, join(dirs.dev, name));
    }
    await mount(["-o", "remount,ro", dirs.dev]);
  } catch (error) {
    await removeOwned(base).catch(() => undefined);
    throw error;
  }
  return { rootfs: dirs.rootfs, dev: dirs.dev, release: () => removeOwned(base) };
}

/**
 * An unprivileged judge mounts nothing on the host: its supervisors mount the overlay
 * in their own mount namespaces (native/userns-view.c). Here only what they mount from:
 * the private layers dir (r -> the rootfs, e: empty, named relatively as on the root
 * path) and the empty directory the view is mounted on. `dev` is unused there.
 */
export async function prepareUsernsLayers(workRoot: string, rootfs: string): Promise<EngineMounts & { layers: string }> {
  const base = ownedPath(workRoot, "m");
  const dirs = { layers: join(base, "layers"), rootfs: join(base, "rootfs") };
  await mkdir(base, { mode: 0o711 });
  try {
    await mkdir(dirs.layers, { mode: 0o700 });
    await mkdir(dirs.rootfs, { mode: 0o755 });
    await symlink(rootfs, join(dirs.layers, "r"));
    await mkdir(join(dirs.layers, "e"));
  } catch (error) {
    await removeOwned(base).catch(() => undefined);
    throw error;
  }
  return { rootfs: dirs.rootfs, dev: "", layers: dirs.layers, release: () => removeOwned(base) };
}

export interface WorkDir {
  readonly path: string;
  release(): Promise<void>;
}

/** A session's work dir: its own tmpfs (size-capped, mode 0700, owned by the session's host uid). */
export async function mountWorkDir(workRoot: string, uid: number, sizeBytes: number): Promise<WorkDir> {
  const path = ownedPath(workRoot, "s");
  try {
    await mountTmpfs(path, "sonocode-box", `size=${sizeBytes},mode=700,uid=${uid},gid=${uid},nosuid,nodev`);
  } catch (error) {
    await removeMountPoint(path);
    throw error;
  }
  return { path, release: () => removeOwned(path) };
}
