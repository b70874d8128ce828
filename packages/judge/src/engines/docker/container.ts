// The Docker engine's session container: created locked down, with its init (our run
// helper in --init mode, a reaper running as a uid of its own that user code cannot
// signal or ptrace, non-dumpable) as the baseline no run may touch; and the
// crash-recovery sweep of containers whose judge process is gone.
import { randomUUID } from "node:crypto";
import { writeFileSync } from "node:fs";
import { hostname } from "node:os";
import type Docker from "dockerode";
import type { Logger } from "pino";
import type { Cgroup } from "../../sandbox/cgroup/cgroup.js";
import { openContainerCgroup } from "../../sandbox/cgroup/container-cgroup.js";
import { formatCpuList } from "../../sandbox/cgroup/cpuset.js";
import { ownerGone } from "../../sandbox/owner.js";
import { dockerSeccompOption } from "../../sandbox/seccomp/docker-profile.js";
import { INIT_IN_CONTAINER } from "./host-files.js";
import { pivotContainerRoot } from "./root-view.js";

const SESSION_LABEL = "org.sonocode.judge";
/** host:pid of the judge process that owns a session container, to clean up after a crash. */
const OWNER_LABEL = "org.sonocode.judge.owner";
const OWNER = `${hostname()}:${process.pid}`;
// Three unprivileged uids, none of which can signal or ptrace another:
export const USER_UID = 65534; // nobody: owns /box; writeFile and writable runs (compile)
export const READONLY_UID = 65532; // runs with writableWorkDir: false (tests): /box is read+exec only
const INIT_UID = 65533; // the container init: a uid user code cannot signal
const BASE_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/box", "LANG=C.UTF-8"];
const MiB = 1024 * 1024;
/** The container's own memory limit until the first run sets the real one. */
const INITIAL_MEMORY = 1024 * MiB;
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ContainerOptions {
  image: string;
  cpus: number;
  /** The session slot's CPUs (cpuset.ts: slotCpus), or null to let the scheduler place it. */
  cpuset: readonly number[] | null;
  workDirBytes: number;
  tmpBytes: number;
  /** Our init and /etc files (host-files.ts). */
  binds: string[];
  /** The root-view helper (root-view.ts): the container's root gets mount options without host paths. */
  rootView: string;
}

export interface SessionContainer {
  container: Docker.Container;
  /** Host pid of the container's init. */
  initPid: number;
  cgroup: Cgroup;
  /** Host pid of the init (the only process that outlives a run). */
  baseline: Set<number>;
}

export async function createSessionContainer(docker: Docker, options: ContainerOptions, log: Logger): Promise<SessionContainer> {
  const { workDirBytes, tmpBytes } = options;
  // CgroupnsMode (API 1.41) is missing from dockerode's types.
  const hostConfig: Docker.HostConfig & { CgroupnsMode: "private" | "host" } = {
    // Our own init (host-files.ts), not Docker's docker-init bound from the host.
    Init: false,
    Binds: options.binds,
    NetworkMode: "none",
    ReadonlyRootfs: true,
    // exec on /box: compiled programs run from there. Owned by USER_UID, 0755: test
    // runs (READONLY_UID) can read and run the artefacts but not change them.
    Tmpfs: {
      "/box": `rw,exec,nosuid,nodev,size=${workDirBytes},uid=${USER_UID},gid=${USER_UID},mode=0755`,
      "/tmp": `rw,exec,nosuid,nodev,size=${tmpBytes},mode=1777`,
      // An empty read-only tmpfs instead of Docker's read-only sysfs, which shows the
      // host's devices, block sizes, NICs and CPU topology (bwrap has no /sys at all).
      // Docker drops its own /sys mount for a user mount there; the cgroup mounts it
      // puts under /sys/fs/cgroup stay listed in mountinfo but are shadowed (and show
      // only "/": private cgroup namespace).
      "/sys": "ro,nosuid,nodev,noexec,size=4k,mode=0555",
    },
    ShmSize: 16 * MiB,
    IpcMode: "private",
    // /proc/self/cgroup shows "/" rather than the host's /docker/<id> paths.
    CgroupnsMode: "private",
    CapDrop: ["ALL"],
    // The same seccomp policy as the bwrap engine (sandbox/seccomp/policy.ts), not Docker's default.
    SecurityOpt: ["no-new-privileges", dockerSeccompOption()],
    Memory: INITIAL_MEMORY,
    MemorySwap: INITIAL_MEMORY, // = Memory: no swap
    PidsLimit: 64,
    NanoCpus: Math.round(options.cpus * 1e9),
    ...(options.cpuset ? { CpusetCpus: formatCpuList(options.cpuset) } : {}),
    // Hard ceilings; each run lowers them further through prlimit.
    Ulimits: [
      { Name: "core", Soft: 0, Hard: 0 },
      { Name: "nofile", Soft: 1024, Hard: 1024 },
      { Name: "fsize", Soft: workDirBytes, Hard: workDirBytes },
      { Name: "stack", Soft: 8 * MiB, Hard: -1 },
    ],
    LogConfig: { Type: "none", Config: {} },
    RestartPolicy: { Name: "no" },
    AutoRemove: false, // dispose() force-removes; AutoRemove would race with it
  };
  const container = await docker.createContainer({
    name: `sonocode-judge-${randomUUID().slice(0, 13)}`,
    Image: options.image,
    // Reaps orphans of double-forked programs and keeps the container up.
    Cmd: [INIT_IN_CONTAINER, "--init"],
    User: `${INIT_UID}:${INIT_UID}`,
    Hostname: "box",
    Env: BASE_ENV,
    WorkingDir: "/box",
    NetworkDisabled: true,
    Labels: { [SESSION_LABEL]: "session", [OWNER_LABEL]: OWNER },
    HostConfig: hostConfig,
  });
  try {
    await container.start();
    const info = await container.inspect();
    // Before any exec: the overlay2 root Docker made names its layer dirs on the host.
    await pivotContainerRoot(options.rootView, info.State.Pid);
    const cgroup = openContainerCgroup(info.State.Pid);
    // The init is the baseline no run may touch.
    let baseline: number[] = [];
    for (let i = 0; i < 400 && baseline.length < 1; i++) {
      baseline = cgroup.pids();
      if (baseline.length < 1) await sleep(5);
    }
    if (baseline.length !== 1) throw new Error(`container init did not come up (pids: ${baseline.join(",")})`);
    for (const pid of baseline) {
      // The OOM killer must pick the program, never the init that keeps the session alive.
      try {
        writeFileSync(`/proc/${pid}/oom_score_adj`, "-1000");
      } catch (err) {
        // Needs CAP_SYS_RESOURCE on the host. Without it the init is still safe in
        // practice: the OOM killer picks the largest process, and the init is tiny.
        log.debug({ err }, "cannot protect the container init from the OOM killer");
      }
    }
    return { container, initPid: info.State.Pid, cgroup, baseline: new Set(baseline) };
  } catch (err) {
    await container.remove({ force: true }).catch(() => undefined);
    throw err;
  }
}

/**
 * Removes session containers left by a judge process of this host that is gone
 * (killed before dispose()). Containers of live processes are never touched.
 */
export async function removeOrphans(docker: Docker, log: Logger): Promise<void> {
  try {
    const list = await docker.listContainers({ all: true, filters: { label: [`${SESSION_LABEL}=session`] } });
    for (const c of list) {
      const owner = c.Labels[OWNER_LABEL] ?? "";
      const sep = owner.lastIndexOf(":");
      if (owner.slice(0, sep) !== hostname() || !ownerGone(Number(owner.slice(sep + 1)))) continue;
      await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
      log.info({ container: c.Id.slice(0, 12) }, "removed a sandbox container left by a crashed judge");
    }
  } catch (err) {
    log.warn({ err }, "could not look for orphaned sandbox containers");
  }
}
