// The bubblewrap engine: every run is a fresh set of namespaces (user, pid, net,
// mount, ipc, uts, cgroup) over the read-only runtime rootfs, started as an
// unprivileged host uid, placed in its own cgroup before any user code runs.
//
// Launch sequence of one run (why it looks like this):
//  1. spawn our static launcher (native/launcher.c) as root. It joins the run's
//     cgroup (memory, pids, cpu) itself, enters the slot's persistent empty network
//     namespace, drops to the session's host uid, reads bwrap's command line from a
//     control pipe and execs bwrap in place. A session starts the launcher of its next
//     run while the current run is going: joining a cgroup waits for an RCU grace
//     period in the kernel (8-16 ms on cgroup v1, most of the old per-run overhead),
//     and that wait now overlaps the previous run. So bwrap
//     and everything it forks is in the cgroup from its first instruction (no escape
//     window, and no block-fd round trip through the judge), and bwrap does not pay
//     for a new network namespace per run (see sandbox/netns.ts).
//  2. bwrap reports its child's host pid on fd 3 (--info-fd): that is how we know
//     the sandbox came up, as opposed to a launcher or bwrap setup failure.
//  3. inside, our static run helper (native/run-helper.c) applies rlimits, forks
//     the program, and reports its exact exit code or signal on fd 4. bwrap has
//     installed our seccomp filter (native/seccomp-filter.c, --seccomp on fd 6) in
//     the sandbox's pid 1 and before exec'ing the helper: every process inside is filtered.
//  4. the child of bwrap is pid 1 of the new pid namespace: when it exits (or we
//     SIGKILL bwrap, which --die-with-parent turns into SIGKILL of pid 1) the kernel
//     kills every process left in the namespace. We still empty and remove the
//     cgroup afterwards, so nothing survives a run.
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, createReadStream, constants as fsConstants, openSync } from "node:fs";
import { chmod, chown, copyFile, lstat, mkdir, mkdtemp, open, readFile, realpath, rename, rm, stat } from "node:fs/promises";
import { constants as osConstants, tmpdir } from "node:os";
import { join } from "node:path";
import type { Logger } from "pino";
import { createCgroupManager, type CgroupManager, type RunCgroup } from "../sandbox/cgroup.js";
import { createNetns, deleteNetns, netnsName, newNetnsToken, releaseNetnsToken, removeStaleNetns } from "../sandbox/netns.js";
import { SandboxError } from "../errors.js";
import type { RunOutcome, RunSpec, SandboxEngine, SandboxSession, Watchdog } from "../sandbox/sandbox.js";

export const DEFAULT_ROOTFS = "/var/lib/sonocode/runtime/rootfs";

export interface BwrapEngineOptions {
  /** The runtime root filesystem, bound read-only as / (default /var/lib/sonocode/runtime/rootfs). */
  rootfs?: string;
  logger?: Logger;
  /** Parent cgroup relative to each hierarchy's root (default "sonocode"). */
  cgroupRoot?: string;
  /** Host directory for per-session work dirs and the compiled helper (default $TMPDIR/sonocode-judge). */
  workRoot?: string;
  bwrapPath?: string;
  /** Sessions run as host uid/gid hostUidBase + slot, so concurrent sessions cannot touch each other even outside the namespaces. */
  hostUidBase?: number;
}

/** The uid/gid the program sees inside the sandbox. */
const SANDBOX_UID = 65534;
const HELPER_SOURCE_URL = new URL("../../native/run-helper.c", import.meta.url);
const LAUNCHER_SOURCE_URL = new URL("../../native/launcher.c", import.meta.url);
const SECCOMP_SOURCE_URL = new URL("../../native/seccomp-filter.c", import.meta.url);
/** The compiled seccomp filter in the helper dir (classic BPF, for bwrap --seccomp). */
const SECCOMP_FILE = "seccomp.bpf";
/** The helper dir is bound over /run (an empty dir in the rootfs), so no mount point has to be created in the read-only root. */
const HELPER_IN_SANDBOX = "/run/run";
const INFO_FD = 3;
const STATUS_FD = 4;
/** The launcher reads bwrap's command line from here (NUL-terminated strings, then EOF). */
const CTL_FD = 5;
/** bwrap reads the seccomp filter from here (a fresh read-only open of SECCOMP_FILE per run). */
const SECCOMP_FD = 6;
/** Processes in a run's cgroup besides the program's own: bwrap, its pid-1 reaper, the run helper, and one spare. */
const SUPERVISOR_PROCESSES = 4;
const STDERR_KEEP_BYTES = 64 * 1024;
const OPEN_FILES = 512;
const TMP_BYTES_RUN = 64 * 1024 * 1024;
const SHM_BYTES_RUN = 16 * 1024 * 1024;
const TMP_BYTES_WRITABLE = 512 * 1024 * 1024;
const BASE_ENV: Record<string, string> = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/tmp", LANG: "C.UTF-8" };
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

// First name wins: SIGABRT before its alias SIGIOT, SIGIO before SIGPOLL.
const SIGNAL_NAMES = new Map<number, string>();
for (const [name, num] of Object.entries(osConstants.signals)) if (!SIGNAL_NAMES.has(num)) SIGNAL_NAMES.set(num, name);

function signalName(num: number): string {
  return SIGNAL_NAMES.get(num) ?? `SIG${num}`;
}

interface Slots {
  take(): number;
  release(slot: number): void;
}

function createSlots(): Slots {
  const used = new Set<number>();
  return {
    take() {
      let slot = 0;
      while (used.has(slot)) slot++;
      used.add(slot);
      return slot;
    },
    release(slot) {
      used.delete(slot);
    },
  };
}

/** The work root must be ours, a real directory, and not writable by anyone else (it lives in /tmp by default). */
async function ensureWorkRoot(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o711 });
  const info = await lstat(dir);
  const uid = process.getuid?.() ?? 0;
  if (!info.isDirectory() || info.uid !== uid) throw new SandboxError("sandbox work root is not a directory owned by the judge");
  await chmod(dir, 0o711);
}

export function createBwrapEngine(options: BwrapEngineOptions = {}): SandboxEngine {
  const logger = options.logger;
  const bwrapPath = options.bwrapPath ?? "/usr/bin/bwrap";
  const workRoot = options.workRoot ?? join(tmpdir(), "sonocode-judge");
  const uidBase = options.hostUidBase ?? 61_000;
  const slots = createSlots();
  let ready: Promise<{ rootfs: string; helperDir: string; cgroups: CgroupManager }> | null = null;

  async function buildHelper(rootfs: string, cgroups: CgroupManager): Promise<string> {
    const source = await readFile(HELPER_SOURCE_URL);
    const launcherSource = await readFile(LAUNCHER_SOURCE_URL);
    const seccompSource = await readFile(SECCOMP_SOURCE_URL);
    const hash = createHash("sha256").update(source).update("\0").update(launcherSource).update("\0").update(seccompSource).update(rootfs).digest("hex").slice(0, 16);
    const helperDir = join(workRoot, `helper-${hash}`);
    try {
      const root = process.getuid?.() ?? 0;
      const info = await lstat(join(helperDir, "run"));
      const launcher = await lstat(join(helperDir, "launch"));
      const filter = await lstat(join(helperDir, SECCOMP_FILE));
      if (info.isFile() && info.uid === root && launcher.isFile() && launcher.uid === root && filter.isFile() && filter.uid === root) return helperDir;
    } catch {
      /* build it */
    }
    // Compile with the runtime's own gcc, in the sandbox: no host compiler needed, and the binary matches the rootfs.
    const session = await openSession({ rootfs, helperDir: null, cgroups });
    try {
      await session.writeFile("run-helper.c", source.toString("utf8"));
      await session.writeFile("launcher.c", launcherSource.toString("utf8"));
      await session.writeFile("seccomp-filter.c", seccompSource.toString("utf8"));
      const limits = { cpuTimeMs: 30_000, wallTimeMs: 60_000, memoryBytes: 512 << 20, outputBytes: 64 << 10, processes: 32, fileSizeBytes: 64 << 20 };
      for (const [out, src] of [["run", "run-helper.c"], ["launch", "launcher.c"], ["seccomp-filter", "seccomp-filter.c"]]) {
        const result = await session.run({ argv: ["/usr/bin/gcc", "-O2", "-static", "-o", `/box/${out}`, `/box/${src}`], stdin: "", limits, writableWorkDir: true });
        if (result.exitCode !== 0) throw new SandboxError(`cannot build the sandbox ${out} helper: ${result.stderr.toString("utf8", 0, 2000)}`);
      }
      // The filter is data: generate it once, with the rootfs's own headers (syscall numbers, struct layout).
      const generated = await session.run({ argv: ["/box/seccomp-filter", `/box/${SECCOMP_FILE}`], stdin: "", limits, writableWorkDir: true });
      const filterSize = generated.exitCode === 0 ? (await lstat(join(session.dir, SECCOMP_FILE))).size : 0;
      // bwrap wants whole struct sock_filter entries (8 bytes each); the kernel takes at most 4096.
      if (filterSize === 0 || filterSize % 8 !== 0 || filterSize > 4096 * 8) throw new SandboxError(`cannot generate the sandbox seccomp filter: ${generated.stderr.toString("utf8", 0, 2000)}`);
      const staging = await mkdtemp(join(workRoot, "helper-tmp-"));
      for (const [file, mode] of [["run", 0o755], ["launch", 0o755], [SECCOMP_FILE, 0o644]] as const) {
        await copyFile(join(session.dir, file), join(staging, file), fsConstants.COPYFILE_EXCL);
        await chmod(join(staging, file), mode);
      }
      await chmod(staging, 0o755);
      try {
        await rename(staging, helperDir);
      } catch {
        // Another process won the race; its helper is identical.
        await rm(staging, { recursive: true, force: true });
      }
      return helperDir;
    } finally {
      await session.dispose();
    }
  }

  function init() {
    ready ??= (async () => {
      let rootfs: string;
      try {
        rootfs = await realpath(options.rootfs ?? DEFAULT_ROOTFS);
        if (!(await stat(join(rootfs, "usr/bin/true"))).isFile()) throw new Error("no /usr/bin/true");
      } catch {
        throw new SandboxError("bwrap engine: the runtime rootfs is missing; build it with scripts/runtime/build-rootfs.sh");
      }
      try {
        await stat(bwrapPath);
      } catch {
        throw new SandboxError("bwrap engine: bubblewrap is not installed (apt-get install bubblewrap)");
      }
      if ((process.getuid?.() ?? -1) !== 0) throw new SandboxError("bwrap engine: the judge must run as root to manage cgroups and sandbox uids");
      await ensureWorkRoot(workRoot);
      const cgroups = await createCgroupManager({ parent: options.cgroupRoot ?? "sonocode" });
      // Crash recovery: run groups and slot namespaces whose judge process is gone.
      const staleGroups = await cgroups.removeStale();
      const staleNetns = await removeStaleNetns();
      if (staleGroups > 0 || staleNetns.length > 0) logger?.warn({ staleGroups, staleNetns }, "removed sandbox resources left by a previous judge process");
      const helperDir = await buildHelper(rootfs, cgroups);
      logger?.info({ engine: "bwrap", cgroup: cgroups.version }, "bwrap engine ready");
      return { rootfs, helperDir, cgroups };
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

  async function openSession(ctx: { rootfs: string; helperDir: string | null; cgroups: CgroupManager }): Promise<BwrapSession> {
    const slot = slots.take();
    const uid = uidBase + slot;
    try {
      const netns = ctx.helperDir ? await netnsFor(slot) : null;
      const dir = await mkdtemp(join(workRoot, "s-"));
      await chmod(dir, 0o700);
      await chown(dir, uid, uid);
      return new BwrapSession({ ...ctx, dir, uid, netns, bwrapPath, logger, release: () => slots.release(slot) });
    } catch (error) {
      slots.release(slot);
      throw error;
    }
  }

  return {
    name: "bwrap",
    async check() {
      const ctx = await init();
      const session = await openSession(ctx);
      try {
        const out = await session.run({
          argv: ["/usr/bin/true"],
          stdin: "",
          limits: { cpuTimeMs: 2_000, wallTimeMs: 5_000, memoryBytes: 64 << 20, outputBytes: 1 << 20, processes: 8, fileSizeBytes: 1 << 20 },
        });
        if (out.exitCode !== 0) throw new SandboxError("bwrap engine: a trivial sandboxed run failed");
      } finally {
        await session.dispose();
      }
    },
    async open() {
      return openSession(await init());
    },
    async close() {
      // Sessions own their work dirs and run cgroups; the engine owns the slot namespaces.
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
    },
  };
}

interface SessionContext {
  rootfs: string;
  helperDir: string | null;
  cgroups: CgroupManager;
  dir: string;
  uid: number;
  /** The slot's persistent network namespace, or null: bwrap then creates one per run. */
  netns: string | null;
  bwrapPath: string;
  logger: Logger | undefined;
  release: () => void;
}

/** A launcher already in its (limit-less, not yet used) run cgroup, waiting for bwrap's command line. */
interface Prepared {
  cgroup: RunCgroup;
  child: ChildProcess;
  dead: boolean;
}

class BwrapSession implements SandboxSession {
  private disposed = false;
  private readonly active = new Set<() => void>();
  /** The next run's launcher (see the launch sequence at the top). */
  private prepared: Prepared | null = null;
  /** Run cgroups being removed after their run resolved (already empty: finish() killed and waited). */
  private readonly destroying = new Set<Promise<void>>();
  readonly dir: string;

  constructor(private readonly ctx: SessionContext) {
    this.dir = ctx.dir;
  }

  async writeFile(name: string, content: string): Promise<void> {
    if (!SAFE_NAME.test(name)) throw new SandboxError("invalid sandbox file name");
    // O_NOFOLLOW|O_EXCL: never write through anything the sandbox may have planted.
    const handle = await open(
      join(this.dir, name),
      fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW,
      0o644,
    );
    try {
      await handle.writeFile(content, "utf8");
    } finally {
      await handle.close();
    }
  }

  private bwrapArgs(spec: RunSpec): string[] {
    const writable = spec.writableWorkDir ?? true;
    const env = { ...BASE_ENV, ...(spec.env ?? {}) };
    const args = [
      // Every namespace but net: that one is the slot's persistent empty namespace, entered by the launcher.
      "--unshare-user",
      "--unshare-ipc",
      "--unshare-pid",
      "--unshare-uts",
      "--unshare-cgroup",
      "--disable-userns",
      "--uid", String(SANDBOX_UID),
      "--gid", String(SANDBOX_UID),
      "--hostname", "sandbox",
      "--die-with-parent",
      "--new-session",
      "--cap-drop", "ALL",
      "--ro-bind", this.ctx.rootfs, "/",
      "--proc", "/proc",
      "--dev", "/dev",
      "--size", String(writable ? TMP_BYTES_WRITABLE : TMP_BYTES_RUN), "--tmpfs", "/tmp",
      "--size", String(SHM_BYTES_RUN), "--tmpfs", "/dev/shm",
      writable ? "--bind" : "--ro-bind", this.dir, "/box",
      "--chdir", "/box",
      "--clearenv",
    ];
    if (!this.ctx.netns) args.push("--unshare-net");
    for (const [key, value] of Object.entries(env)) args.push("--setenv", key, value);
    args.push("--info-fd", String(INFO_FD));
    if (this.ctx.helperDir) {
      // Installed by bwrap last thing before exec, in pid 1 and in the helper (inherited by all it runs).
      args.push("--seccomp", String(SECCOMP_FD));
      args.push("--ro-bind", this.ctx.helperDir, "/run");
      const stackBytes = Math.min(spec.limits.memoryBytes, 1 << 30);
      const cpuSeconds = Math.ceil(spec.limits.cpuTimeMs / 1000) + 1;
      args.push(
        "--",
        HELPER_IN_SANDBOX,
        String(STATUS_FD),
        String(spec.limits.fileSizeBytes),
        String(OPEN_FILES),
        String(stackBytes),
        String(cpuSeconds),
        "--",
        ...spec.argv,
      );
    } else {
      // Only while bootstrapping the helper itself (our own gcc run, no user code).
      args.push("--", ...spec.argv);
    }
    return args;
  }

  /** Starts a launcher in a fresh run cgroup; it joins it, enters the netns, drops privileges and waits on CTL_FD. */
  private prepare(): Prepared {
    const helperDir = this.ctx.helperDir!;
    const cgroup = this.ctx.cgroups.create();
    let child: ChildProcess;
    let filter: number | null = null;
    try {
      const argv = [this.ctx.netns ?? "-", String(this.ctx.uid), String(this.ctx.uid), String(CTL_FD), ...cgroup.procsFiles()];
      // A fresh open per run: bwrap reads the filter to EOF, so a shared file offset would leave the next run an empty one.
      filter = openSync(join(helperDir, SECCOMP_FILE), fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
      // bwrap's own environ is visible as /proc/1/environ inside: give it nothing (the launcher also execs with an empty one).
      child = spawn(join(helperDir, "launch"), argv, { stdio: ["pipe", "pipe", "pipe", "pipe", "pipe", "pipe", filter], env: {} });
    } catch (error) {
      void cgroup.destroy().catch(() => undefined);
      throw error;
    } finally {
      if (filter !== null) closeSync(filter);
    }
    const prepared: Prepared = { cgroup, child, dead: false };
    const dead = () => {
      prepared.dead = true;
    };
    child.on("exit", dead);
    child.on("error", dead);
    for (const stream of child.stdio as unknown as NodeJS.EventEmitter[]) stream?.on("error", () => undefined);
    return prepared;
  }

  private discard(prepared: Prepared): Promise<void> {
    prepared.child.kill("SIGKILL");
    return prepared.cgroup.destroy();
  }

  /** The launcher for this run: the prepared one if it is still alive, else a new one. */
  private takePrepared(): Prepared {
    const prepared = this.prepared;
    this.prepared = null;
    if (prepared && !prepared.dead && prepared.child.exitCode === null && prepared.child.signalCode === null) return prepared;
    if (prepared) this.track(this.discard(prepared));
    return this.prepare();
  }

  private track(destroying: Promise<void>): void {
    const done = destroying.catch((error) => this.ctx.logger?.warn({ err: error }, "could not remove a run cgroup"));
    this.destroying.add(done);
    void done.finally(() => this.destroying.delete(done));
  }

  async run(spec: RunSpec): Promise<RunOutcome> {
    if (this.disposed) throw new SandboxError("session disposed");
    if (spec.argv.length === 0 || !spec.argv[0]?.startsWith("/")) throw new SandboxError("argv[0] must be an absolute path");
    const limits = { memoryBytes: spec.limits.memoryBytes, processes: spec.limits.processes + SUPERVISOR_PROCESSES };
    let prepared: Prepared | null = null;
    let cgroup: RunCgroup;
    if (this.ctx.helperDir) {
      prepared = this.takePrepared();
      cgroup = prepared.cgroup;
      try {
        cgroup.setLimits(limits);
      } catch (error) {
        await this.discard(prepared);
        throw error;
      }
    } else {
      cgroup = this.ctx.cgroups.create(limits);
    }
    let outcome: RunOutcome;
    try {
      outcome = await this.runIn(cgroup, spec, prepared?.child ?? null);
    } catch (error) {
      prepared?.child.kill("SIGKILL");
      await cgroup.destroy();
      throw error;
    }
    // finish() has killed everything and waited for the group to be empty: removing it is off the critical path.
    this.track(cgroup.destroy());
    return outcome;
  }

  private runIn(cgroup: RunCgroup, spec: RunSpec, launcher: ChildProcess | null): Promise<RunOutcome> {
    const { limits } = spec;
    return new Promise<RunOutcome>((resolve, reject) => {
      let child: ChildProcess;
      const startNs = process.hrtime.bigint();
      try {
        if (launcher) {
          // The launcher is (or is about to be) in the cgroup, in the slot netns, as the slot uid: give it bwrap's command line.
          child = launcher;
          const command = [this.ctx.bwrapPath, ...this.bwrapArgs(spec)];
          // spawn() would refuse these; over the control pipe a NUL would split an argument.
          if (command.some((a) => a.includes("\0"))) throw new SandboxError("sandbox arguments must not contain NUL");
          const ctl = (child.stdio as unknown as Array<NodeJS.WritableStream>)[CTL_FD]!;
          ctl.end(Buffer.from(command.map((a) => `${a}\0`).join(""), "utf8"));
          // Start the next run's launcher once this one is on its way: its cgroup join overlaps this run.
          setImmediate(() => {
            if (this.disposed || this.prepared) return;
            try {
              this.prepared = this.prepare();
            } catch (error) {
              this.ctx.logger?.warn({ err: error }, "could not start a sandbox launcher in advance");
            }
          });
        } else {
          // Only while bootstrapping the helpers themselves (our own gcc on our own source, no user code).
          child = spawn(this.ctx.bwrapPath, this.bwrapArgs(spec), { stdio: ["pipe", "pipe", "pipe", "pipe", "pipe"], env: {}, uid: this.ctx.uid, gid: this.ctx.uid });
        }
      } catch (error) {
        reject(error);
        return;
      }
      const stdin = child.stdin!;
      const stdout = child.stdout!;
      const stderr = child.stderr!;
      const stdioStreams = child.stdio as unknown as Array<NodeJS.ReadWriteStream>;
      const infoFd = stdioStreams[INFO_FD]!;
      const statusFd = stdioStreams[STATUS_FD]!;

      const outChunks: Buffer[] = [];
      const errChunks: Buffer[] = [];
      let outBytes = 0;
      let errKept = 0;
      let errBytes = 0;
      let outTotal = 0;
      let totalOutput = 0;
      let info = "";
      let status = "";
      let started = false;
      let endNs = 0n;
      let reason: Watchdog | null = null;
      let killed = false;
      let settled = false;
      let setupError: Error | null = null;
      const timers: NodeJS.Timeout[] = [];

      const kill = (why: Watchdog | null) => {
        if (killed) return;
        killed = true;
        reason ??= why;
        if (endNs === 0n && started) endNs = process.hrtime.bigint();
        child.kill("SIGKILL");
        // bwrap's death already takes the namespace down; this catches anything racing it.
        void cgroup.killAll().catch(() => undefined);
      };
      const abort = () => kill(null);
      this.active.add(abort);

      const onOutput = (chunk: Buffer, isErr: boolean) => {
        totalOutput += chunk.length;
        if (isErr) errBytes += chunk.length;
        else outTotal += chunk.length;
        if (totalOutput > limits.outputBytes) {
          kill("output");
          return;
        }
        if (isErr) {
          if (errKept < STDERR_KEEP_BYTES) {
            const part = chunk.subarray(0, STDERR_KEEP_BYTES - errKept);
            errChunks.push(part);
            errKept += part.length;
          }
        } else {
          outChunks.push(chunk);
          outBytes += chunk.length;
        }
      };
      stdout.on("data", (c: Buffer) => onOutput(c, false));
      stderr.on("data", (c: Buffer) => onOutput(c, true));
      statusFd.on("data", (c: Buffer) => {
        status += c.toString("latin1");
      });
      for (const stream of [stdin, stdout, stderr, infoFd, statusFd] as NodeJS.EventEmitter[]) {
        // EPIPE on stdin (program did not read it) or resets after a kill are normal.
        stream.on("error", () => undefined);
      }

      // The program may start as soon as bwrap is up: the cgroup already holds it and the
      // limits run from the spawn, so the timers start now and nothing waits on a round trip.
      // A host file (a cached test input) is streamed, never read whole into memory.
      const stdinSpec = spec.stdin;
      const input = typeof stdinSpec === "string" ? null : createReadStream(stdinSpec.path);
      if (input) {
        input.on("error", (error) => {
          setupError ??= new SandboxError("cannot read the run's stdin file", { cause: error });
          kill(null);
        });
        input.pipe(stdin);
      } else {
        stdin.end(stdinSpec as string);
      }
      const pollMs = Math.max(10, Math.min(100, Math.floor(limits.cpuTimeMs / 20)));
      timers.push(
        setInterval(() => {
          try {
            if (cgroup.cpuTimeMs() > limits.cpuTimeMs) kill("cpu");
          } catch {
            /* the group is going away */
          }
        }, pollMs),
        setTimeout(() => kill("wall"), limits.wallTimeMs),
      );
      infoFd.on("data", (c: Buffer) => {
        if (started) return;
        info += c.toString("utf8");
        // bwrap writes its child's pid once the namespaces are up: from here on a silent exit is the program's.
        if (/"child-pid"\s*:\s*\d+/.test(info)) started = true;
      });
      // Setup itself must not hang (e.g. a wedged mount): bound it independently of the program.
      timers.push(
        setTimeout(() => {
          if (!started) {
            setupError = new SandboxError("sandbox setup timed out");
            kill(null);
          }
        }, 10_000 + limits.wallTimeMs),
      );

      child.on("error", (error) => {
        setupError ??= error;
      });
      if (child.exitCode !== null || child.signalCode !== null) setupError ??= new SandboxError("sandbox launcher exited early");
      child.on("close", (code, sig) => {
        if (settled) return;
        settled = true;
        if (endNs === 0n) endNs = process.hrtime.bigint();
        for (const t of timers) clearTimeout(t);
        this.active.delete(abort);
        // The program is gone: a stdin file it did not read to the end is closed here.
        input?.destroy();
        void this.finish({ cgroup, spec, code, sig, status, started, setupError, reason, killed, startNs, endNs, stderr: Buffer.concat(errChunks), stdout: Buffer.concat(outChunks, outBytes), stdoutBytes: outTotal, stderrBytes: errBytes }).then(resolve, reject);
      });
    });
  }

  private async finish(r: {
    cgroup: RunCgroup;
    spec: RunSpec;
    code: number | null;
    sig: NodeJS.Signals | null;
    status: string;
    started: boolean;
    setupError: Error | null;
    reason: Watchdog | null;
    killed: boolean;
    startNs: bigint;
    endNs: bigint;
    stdout: Buffer;
    stderr: Buffer;
    stdoutBytes: number;
    stderrBytes: number;
  }): Promise<RunOutcome> {
    if (r.setupError) {
      this.ctx.logger?.error({ err: r.setupError }, "sandbox setup failed");
      throw new SandboxError("sandbox setup failed");
    }
    await r.cgroup.killAll();
    const stats = r.cgroup.stats();
    const wallTimeMs = r.started ? Number((r.endNs - r.startNs) / 1_000_000n) : 0;
    let exitCode: number | null = null;
    let signal: string | null = null;
    let maxRssKb = 0;
    const line = /^(exit|signal|execfail) (-?\d+)(?: (\d+))?$/m.exec(r.status);
    if (line) {
      const value = Number(line[2]);
      if (line[1] === "execfail") {
        this.ctx.logger?.error({ errno: value, argv0: r.spec.argv[0] }, "sandboxed exec failed");
        throw new SandboxError("sandboxed program could not be started");
      }
      if (line[1] === "exit") exitCode = value;
      else signal = signalName(value);
      maxRssKb = Number(line[3] ?? 0);
    } else if (!r.started && !r.reason) {
      this.ctx.logger?.error({ code: r.code, stderr: r.stderr.toString("utf8", 0, 500) }, "bwrap exited before the program started");
      throw new SandboxError("sandbox failed to start");
    } else if (r.killed || r.sig) {
      signal = "SIGKILL";
    } else if (this.ctx.helperDir === null) {
      exitCode = r.code;
    } else {
      // The helper itself was killed (the program signalled its own supervisor): report bwrap's view.
      const code = r.code ?? 1;
      if (code > 128) signal = signalName(code - 128);
      else exitCode = code;
    }

    // Facts only: the core (verdict.ts) decides which limit, if any, this was.
    return {
      exitCode,
      signal,
      stdout: r.stdout,
      stderr: r.stderr,
      stdoutBytes: r.stdoutBytes,
      stderrBytes: r.stderrBytes,
      cpuTimeMs: stats.cpuTimeMs,
      wallTimeMs,
      // The program's peak RSS (stable across runs); the cgroup peak also counts page cache
      // the run happened to fault in first, so it is only the fallback.
      memoryKb: maxRssKb || stats.memoryPeakKb,
      cgroupPeakKb: stats.memoryPeakKb,
      oomKilled: stats.oomKilled,
      memoryLimitHit: stats.limitReached,
      watchdog: r.reason,
    };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const abort of this.active) abort();
    const prepared = this.prepared;
    this.prepared = null;
    if (prepared) this.track(this.discard(prepared));
    // Give killed runs a moment to be reaped before removing the dir under them.
    for (let i = 0; i < 200 && this.active.size > 0; i++) await new Promise((r) => setTimeout(r, 5));
    await Promise.all([...this.destroying]);
    try {
      // rm -r uses lstat and unlinks symlinks instead of following them.
      await rm(this.dir, { recursive: true, force: true, maxRetries: 3 });
    } catch (error) {
      this.ctx.logger?.warn({ err: error }, "could not remove a sandbox work dir");
    } finally {
      this.ctx.release();
    }
  }
}
