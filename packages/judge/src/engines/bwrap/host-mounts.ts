// The host filesystems the bwrap engine's supervisors bind into their sandbox views
// (see sandbox/host-mounts.ts for why each is a filesystem of its own):
//   - the runtime rootfs, through a read-only overlay whose only layer paths are
//     relative names ("lowerdir=r:e", resolved from a private directory at mount time);
//   - /dev: a small read-only tmpfs with the five character devices a program needs
//     (bwrap's --dev binds the host's devtmpfs nodes, whose mount shows the RAM size);
// A session's work dir (/box) is not here: each supervisor mounts its own size-capped tmpfs
// in its private mount namespace (native/session-box.c), so a session costs the judge no
// mount or umount process, and nothing of it is left on the host when a supervisor dies.
import { closeSync, constants as fsConstants, openSync } from "node:fs";
import { mkdir, symlink } from "node:fs/promises";
import { join } from "node:path";
import { mount, mountTmpfs, ownedPath, removeOwned, runHostCommand, unmountLazily } from "../../sandbox/host-mounts.js";

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
  /** cgroup v1: the engine holds a favordynmods hierarchy (task migrations without an RCU wait). */
  readonly favorDynmods?: boolean;
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

/**
 * cgroup v1 only. Moving a task between cgroups takes cgroup_threadgroup_rwsem for
 * writing, which waits for an RCU grace period unless the kernel "favours dynamic
 * modifications" (mount option favordynmods, Linux 6.0+): measured 6-40 ms per join on a
 * loaded 2-core VM, ~0.05 ms with it. The flag belongs to the global rwsem and lasts as
 * long as any hierarchy mounted with it exists, so the engine mounts a named, empty,
 * controller-less v1 hierarchy with it, keeps a descriptor of its root and detaches the
 * mount at once: it shows in no mount table, and it ends with this descriptor (close(),
 * or the judge's death). Held per engine, not per session: mounting it per session cost
 * ~30 ms of every session open (the flag's first holder waits for a grace period, and a
 * new mount of the name waits, in 10 ms sleeps, for the last session's dying root). The
 * price, paid host-wide while the engine lives, is the kernel's documented one: fork and
 * exit take the rwsem's slower read path. Best effort: null where the kernel refuses.
 */
async function holdFavorDynmods(dir: string): Promise<(() => void) | null> {
  try {
    await mkdir(dir, { mode: 0o700 });
    await mount(["-t", "cgroup", "-o", "none,name=sonocode-dynmods,favordynmods", "sonocode-dynmods", dir]);
  } catch {
    return null;
  }
  const fd = openSync(dir, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    await unmountLazily(dir);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
  return () => closeSync(fd);
}

/** Mounts the engine's rootfs view and /dev (root path: the supervisors bind them); on cgroup v1 it also holds the favordynmods flag. */
export function mountEngineFilesystems(workRoot: string, rootfs: string, cgroupVersion: 1 | 2): Promise<EngineMounts> {
  return withLayers(workRoot, rootfs, async ({ base, layers, rootfs: view }) => {
    const unfavor = cgroupVersion === 1 ? await holdFavorDynmods(join(base, "dynmods")) : null;
    const release = async () => {
      unfavor?.();
      await removeOwned(base);
    };
    try {
      return { ...(await mountView(base, layers, view)), favorDynmods: unfavor !== null, release };
    } catch (error) {
      unfavor?.();
      throw error;
    }
  });
}

async function mountView(base: string, layers: string, view: string): Promise<{ rootfs: string; dev: string }> {
  await mount(["-t", "overlay", "sonocode-rootfs", "-o", "ro,lowerdir=r:e", view], layers);
  const dev = join(base, "dev");
  await mountTmpfs(dev, "sonocode-dev", "size=64k,nr_inodes=64,mode=755,nosuid");
  await runHostCommand("sh", ["-c", DEVICES.map(([name, major, minor]) => `mknod -m 666 ${join(dev, name)} c ${major} ${minor}`).join(" && ")]);
  await mkdir(join(dev, "shm"), { mode: 0o755 });
  for (const [name, target] of [["fd", "/proc/self/fd"], ["stdin", "/proc/self/fd/0"], ["stdout", "/proc/self/fd/1"], ["stderr", "/proc/self/fd/2"]] as const) {
    await symlink(target, join(dev, name));
  }
  await mount(["-o", "remount,ro", dev]);
  return { rootfs: view, dev };
}

/**
 * An unprivileged judge mounts nothing on the host: its supervisors mount the overlay
 * in their own mount namespaces (native/userns-view.c). Here only what they mount from:
 * the private layers dir and the empty directory the view is mounted on. `dev` is unused there.
 */
export function prepareUsernsLayers(workRoot: string, rootfs: string): Promise<EngineMounts & { layers: string }> {
  return withLayers(workRoot, rootfs, async ({ base, layers, rootfs: view }) => ({ rootfs: view, dev: "", layers, release: () => removeOwned(base) }));
}
