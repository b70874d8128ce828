// The host filesystems the bwrap engine's supervisors bind into their sandbox views
// (see sandbox/host-mounts.ts for why each is a filesystem of its own):
//   - the runtime rootfs, through a read-only overlay whose only layer paths are
//     relative names ("lowerdir=r:e", resolved from a private directory at mount time);
//   - /dev: a small read-only tmpfs with the five character devices a program needs
//     (bwrap's --dev binds the host's devtmpfs nodes, whose mount shows the RAM size);
// A session's work dir (/box) is not here: each supervisor mounts its own size-capped tmpfs
// in its private mount namespace (native/session-box.c), so a session costs the judge no
// mount or umount process, and nothing of it is left on the host when a supervisor dies.
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { mount, mountTmpfs, ownedPath, removeOwned, runHostCommand } from "../../sandbox/host-mounts.js";

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

interface Layers {
  /** The private layers dir: r -> the rootfs, e: empty (overlay's second lower layer). */
  readonly layers: string;
  /** The empty directory the overlay is mounted on. */
  readonly rootfs: string;
  readonly base: string;
}

/**
 * What both paths mount the rootfs overlay from, under workRoot/m-<pid>-<hex>: overlay shows
 * its layers as given, so they are relative names ("lowerdir=r:e") resolved from this private
 * dir, never the host path. `then` adds the rest; on any failure the whole dir is removed.
 */
async function withLayers<T>(workRoot: string, rootfs: string, then: (dirs: Layers) => Promise<T>): Promise<T> {
  const base = ownedPath(workRoot, "m");
  const dirs = { base, layers: join(base, "layers"), rootfs: join(base, "rootfs") };
  await mkdir(base, { mode: 0o711 });
  try {
    await mkdir(dirs.layers, { mode: 0o700 });
    await mkdir(dirs.rootfs, { mode: 0o755 });
    await symlink(rootfs, join(dirs.layers, "r"));
    await mkdir(join(dirs.layers, "e"));
    return await then(dirs);
  } catch (error) {
    await removeOwned(base).catch(() => undefined);
    throw error;
  }
}

/** Mounts the engine's rootfs view and /dev (root path: the supervisors bind them). */
export function mountEngineFilesystems(workRoot: string, rootfs: string): Promise<EngineMounts> {
  return withLayers(workRoot, rootfs, async ({ base, layers, rootfs: view }) => {
    await mount(["-t", "overlay", "sonocode-rootfs", "-o", "ro,lowerdir=r:e", view], layers);
    const dev = join(base, "dev");
    await mountTmpfs(dev, "sonocode-dev", "size=64k,nr_inodes=64,mode=755,nosuid");
    await runHostCommand("sh", ["-c", DEVICES.map(([name, major, minor]) => `mknod -m 666 ${join(dev, name)} c ${major} ${minor}`).join(" && ")]);
    await mkdir(join(dev, "shm"), { mode: 0o755 });
    for (const [name, target] of [["fd", "/proc/self/fd"], ["stdin", "/proc/self/fd/0"], ["stdout", "/proc/self/fd/1"], ["stderr", "/proc/self/fd/2"]] as const) {
      await symlink(target, join(dev, name));
    }
    await mount(["-o", "remount,ro", dev]);
    return { rootfs: view, dev, release: () => removeOwned(base) };
  });
}

/**
 * An unprivileged judge mounts nothing on the host: its supervisors mount the overlay
 * in their own mount namespaces (native/userns-view.c). Here only what they mount from:
 * the private layers dir and the empty directory the view is mounted on. `dev` is unused there.
 */
export function prepareUsernsLayers(workRoot: string, rootfs: string): Promise<EngineMounts & { layers: string }> {
  return withLayers(workRoot, rootfs, async ({ base, layers, rootfs: view }) => ({ rootfs: view, dev: "", layers, release: () => removeOwned(base) }));
}
