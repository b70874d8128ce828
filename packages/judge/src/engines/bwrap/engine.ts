// The "bwrap" engine (named after bubblewrap, which it used to start per run): every
// run is a fresh set of namespaces (pid, mount, ipc, uts, cgroup; net is the slot's
// persistent empty one) over a read-only view of the runtime rootfs, as an
// unprivileged host uid, in its own cgroup from its first instruction.
//
// How runs start (why it looks like this): a Node spawn, bwrap's namespace and mount
// setup and a cgroup join per run cost 6-9 ms per empty run. Instead each session has
// one persistent supervisor (native/supervisor.c, driven by supervisor.ts): started
// once, as root, it enters the slot's network namespace, builds a private mount
// namespace pivoted into the rootfs view (/dev, /box), and per run only forks a run
// init into a fresh, pre-made cgroup (clone3 CLONE_INTO_CGROUP on cgroup v2; on v1 the
// init joins it one run ahead, with the kernel favouring migrations while the engine
// lives: host-mounts.ts) with fresh pid/mount/ipc/uts/cgroup namespaces, /proc, /tmp and /dev/shm; the
// init forks the program with rlimits, the seccomp filter (sandbox/seccomp/policy.ts)
// and the slot uid. The supervisors run as root and are non-dumpable, the program never
// is root: it can neither signal, ptrace, prlimit nor read any of them
// (supervised-session.ts has the per-run flow, the C file the process tree).
// Only our own filesystems are bound in (host-mounts.ts; /box is a tmpfs each supervisor
// mounts in its own mount namespace): /proc/self/mountinfo inside shows no host path,
// device or RAM size, and opening a session spawns no process but its supervisor.
import { chmod, lstat, mkdir, realpath, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { SandboxError } from "../../errors.js";
import { assertNice } from "../../sandbox/priority.js";
import { slotCpus } from "../../sandbox/cgroup/cpuset.js";
import { createCgroupManager } from "../../sandbox/cgroup/detect.js";
import type { CgroupManager } from "../../sandbox/cgroup/run-cgroups.js";
import { createNetns, deleteNetns, netnsName, newNetnsToken, releaseNetnsToken, removeStaleNetns } from "../../sandbox/netns.js";
import type { SandboxEngine, SandboxSession, SessionOptions } from "../../sandbox/sandbox.js";
import { ensureHelpers, type Helpers } from "../../sandbox/native-helpers.js";
import { mountEngineFilesystems, prepareUsernsLayers, type EngineMounts } from "./host-mounts.js";
import { removeStaleMounts } from "../../sandbox/host-mounts.js";
import { SupervisedSession } from "./supervised-session.js";
import { HELPER_UID_OFFSET, mapUserns, resolveUserns, UserNamespaceUnavailableError, type UsernsIdentity } from "./userns.js";

export const DEFAULT_ROOTFS = "/var/lib/sonocode/runtime/rootfs";

export interface BwrapEngineOptions {
  /** The runtime root filesystem, seen read-only as / (default /var/lib/sonocode/runtime/rootfs). */
  rootfs?: string;
  logger?: Logger;
  /** Parent cgroup relative to each hierarchy's root (default "sonocode"). */
  cgroupRoot?: string;
  /** Host directory for the engine's mounts and the built helpers (default $TMPDIR/sonocode-judge). */
  workRoot?: string;
  /** Sessions run as host uid/gid hostUidBase + slot, so concurrent sessions cannot touch each other even outside the namespaces. */
  hostUidBase?: number;
  /** Size cap of each session's work dir (/box), a tmpfs of its own (in its supervisor's mount namespace). Default 512 MiB. */
  workDirBytes?: number;
  /** Nice value (0-19) every session's supervisor and all it runs get (sandbox/priority.ts). Default 0: the judge's own. */
  nice?: number;
}

/** A paired run's helper (an interactor) runs as uid hostUidBase + HELPER_UID_OFFSET + slot: never a program's uid. */
export { HELPER_UID_OFFSET };

const CHECK_LIMITS = { cpuTimeMs: 2_000, wallTimeMs: 5_000, memoryBytes: 64 << 20, outputBytes: 1 << 20, processes: 8, fileSizeBytes: 1 << 20 };

interface Ready {
  /** The rootfs this engine mounted: its resolved path, inode and mtime (a rebuild in place is another tree). */
  runtime: string;
  helpers: Helpers;
  mounts: EngineMounts & { layers?: string };
  cgroups: CgroupManager;
  /** Not root: sessions build their view from a user namespace mapped to these ids (userns.ts). */
  userns: UsernsIdentity | null;
}

/** One per judge uid: a root judge and an unprivileged one on the same host never share (nor fight over) a work root. */
function defaultWorkRoot(): string {
  const uid = process.getuid?.() ?? 0;
  return join(tmpdir(), uid === 0 ? "sonocode-judge" : `sonocode-judge-${uid}`);
}

/** The work root must be ours, a real directory, and not writable by anyone else (it lives in /tmp by default). */
async function ensureWorkRoot(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o711 });
  const info = await lstat(dir);
  const uid = process.getuid?.() ?? 0;
  if (!info.isDirectory() || info.uid !== uid) throw new SandboxError(`sandbox work root ${dir} is not a directory owned by the judge (uid ${uid}); give the judge a TMPDIR of its own`);
  await chmod(dir, 0o711);
}

/** An unprivileged judge's run groups: below its own delegated cgroup v2 group, nowhere else. */
async function delegatedCgroups(parent: string): Promise<CgroupManager> {
  try {
    return await createCgroupManager({ parent, version: 2, delegated: true });
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new UserNamespaceUnavailableError("cgroup", `needs cgroup v2 with a cgroup subtree delegated to this user (systemd: Delegate=yes; deploy/systemd/sonocode-evaluator.service); on cgroup v1 the judge must run as root: ${why}`, { cause: error });
  }
}

function createSlots() {
  const used = new Set<number>();
  return {
    take(): number {
      let slot = 0;
      while (used.has(slot)) slot++;
      used.add(slot);
      return slot;
    },
    release(slot: number): void {
      used.delete(slot);
    },
  };
}

export function createBwrapEngine(options: BwrapEngineOptions = {}): SandboxEngine {
  const logger = options.logger;
  const workRoot = options.workRoot ?? defaultWorkRoot();
  const uidBase = options.hostUidBase ?? 61_000;
  const workDirBytes = options.workDirBytes ?? 512 << 20;
  const nice = options.nice ?? 0;
  assertNice(nice);
  const slots = createSlots();
  let ready: Promise<Ready> | null = null;

  function init(): Promise<Ready> {
    ready ??= (async () => {
      let rootfs: string;
      try {
        rootfs = await realpath(options.rootfs ?? DEFAULT_ROOTFS);
        if (!(await stat(join(rootfs, "usr/bin/true"))).isFile()) throw new Error("no /usr/bin/true");
      } catch {
        throw new SandboxError("bwrap engine: the runtime rootfs is missing; build it with scripts/runtime/build-rootfs.sh");
      }
      // Not root: the user-namespace mode (userns.ts), on cgroup v2 with a delegated subtree only.
      const userns = (process.getuid?.() ?? -1) !== 0 ? resolveUserns() : null;
      await ensureWorkRoot(workRoot);
      const cgroups = userns ? await delegatedCgroups(options.cgroupRoot ?? "sonocode") : await createCgroupManager({ parent: options.cgroupRoot ?? "sonocode" });
      // Crash recovery: run groups, slot namespaces and mounts whose judge process is gone.
      const staleGroups = await cgroups.removeStale();
      const staleNetns = userns ? [] : await removeStaleNetns();
      const staleMounts = await removeStaleMounts(workRoot);
      if (staleGroups > 0 || staleNetns.length > 0 || staleMounts > 0) logger?.warn({ staleGroups, staleNetns, staleMounts }, "removed sandbox resources left by a previous judge process");
      const helpers = await ensureHelpers(workRoot);
      const mounts = userns ? await prepareUsernsLayers(workRoot, rootfs) : await mountEngineFilesystems(workRoot, rootfs, cgroups.version);
      if (cgroups.version === 1 && !mounts.favorDynmods) logger?.warn("cgroup v1 without favordynmods (Linux 6.0+): each run's cgroup join waits for an RCU grace period, overlapped with the run before it");
      if (!cgroups.cpuset.cpus) logger?.warn({ reason: cgroups.cpuset.reason }, "runs are not pinned to CPUs: parallel sessions may share a core and skew each other's times");
      logger?.info({ engine: "bwrap", cgroup: cgroups.version, cpus: cgroups.cpuset.cpus, userNamespace: userns !== null }, "bwrap engine ready");
      const tree = await stat(rootfs);
      return { runtime: `bwrap:${rootfs}:${tree.dev}:${tree.ino}:${Math.round(tree.mtimeMs)}`, helpers, mounts, cgroups, userns };
    })();
    ready.catch(() => {
      ready = null;
    });
    return ready;
  }

  /** One persistent empty network namespace per slot, created on first use and kept until close(). */
  const slotNetns = new Map<number, Promise<string | null>>();
  let netnsToken: string | null = null;
  function netnsFor(slot: number): Promise<string | null> {
    let made = slotNetns.get(slot);
    if (!made) {
      netnsToken ??= newNetnsToken();
      made = createNetns(netnsName(netnsToken, slot)).then((path) => {
        if (!path) logger?.warn({ slot }, "persistent network namespaces unavailable (ip netns); falling back to one per run");
        return path;
      });
      made.catch(() => slotNetns.delete(slot));
      slotNetns.set(slot, made);
    }
    return made;
  }

  async function openSession(ctx: Ready, options: SessionOptions = {}): Promise<SandboxSession> {
    const slot = slots.take();
    const uid = uidBase + slot;
    try {
      if (slot >= HELPER_UID_OFFSET) throw new SandboxError("too many bwrap sessions at once");
      const identity = ctx.userns;
      // A user-namespace supervisor makes its own netns (userns-view.c); every supervisor mounts its own /box (session-box.c).
      const netns = identity ? null : await netnsFor(slot);
      const release = () => slots.release(slot);
      // Each slot's runs on a CPU of their own (cpuset), so parallel sessions do not skew each other's times;
      // a submission's own checker sessions take another slot (uid, work dir) but run on the submission's CPU.
      const pinnedLike = options.cpusOf;
      const cpus = pinnedLike ? (pinnedLike.cpus ?? undefined) : ctx.cgroups.cpuset.cpus ? slotCpus(slot, ctx.cgroups.cpuset.cpus) : undefined;
      const helperUid = uidBase + HELPER_UID_OFFSET + slot;
      const ids = { slot, program: uid, helper: helperUid };
      const userns = identity && ctx.mounts.layers ? { layers: ctx.mounts.layers, map: (pid: number) => mapUserns(identity, pid, ids) } : undefined;
      const supervisor = { binary: ctx.helpers.supervisor, seccomp: ctx.helpers.seccomp, netns, uid, rootfs: ctx.mounts.rootfs, dev: ctx.mounts.dev, boxBytes: workDirBytes, userns, nice };
      return await SupervisedSession.open({ supervisor, helperUid, cgroups: ctx.cgroups, cpus, logger, release });
    } catch (error) {
      slots.release(slot);
      throw error;
    }
  }

  return {
    name: "bwrap",
    async check() {
      const session = await openSession(await init());
      try {
        const out = await session.run({ argv: ["/usr/bin/true"], stdin: "", limits: CHECK_LIMITS });
        if (out.exitCode !== 0) throw new SandboxError("bwrap engine: a trivial sandboxed run failed");
      } finally {
        await session.dispose();
      }
    },
    async open(options) {
      return openSession(await init(), options);
    },
    async runtimeIdentity() {
      return (await init()).runtime;
    },
    async close() {
      // Sessions own their work dirs and run cgroups; the engine owns the slot namespaces and its mounts.
      const wasReady = ready;
      ready = null;
      const token = netnsToken;
      const names = token ? [...slotNetns.keys()].map((slot) => netnsName(token, slot)) : [];
      slotNetns.clear();
      netnsToken = null;
      for (const name of names) {
        try {
          await deleteNetns(name);
        } catch (error) {
          logger?.warn({ err: error, netns: name }, "could not remove a sandbox network namespace");
        }
      }
      if (token) releaseNetnsToken(token);
      const done = await wasReady?.catch(() => null);
      // Lazy unmounts: a session still open keeps its view until it is disposed.
      await done?.mounts.release().catch((error: unknown) => logger?.warn({ err: error }, "could not unmount the sandbox filesystems"));
      // The manager's shared groups (v1 cpuset pins); one a session still uses stays until the next start's removeStale.
      done?.cgroups.close();
    },
  };
}
