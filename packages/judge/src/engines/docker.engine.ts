// The Docker sandbox engine: one fresh, locked-down container per submission
// (SandboxSession), one `docker exec` per run. The container's init is tini with a
// `sleep` child running as a uid of its own (65533), so user code (65534, or 65532 for
// read-only runs) can neither signal nor ptrace it; after every run the container is
// killed back to that baseline, so nothing a run started is alive for the next one.
//
// Docker knows nothing about "runs" inside a container, so per-run figures come from
// the container's cgroup, read on the host (docker.cgroup.ts): the memory limit is
// moved per run to (usage before the run + the run's limit), the peak is reset when
// the exec'd program appears, CPU time is the cpuacct delta, OOM kills are the
// kernel's own counter. CPU/wall limits are enforced by polling from the host, and a
// kill is "freeze the cgroup, SIGKILL every non-baseline pid, thaw".
import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { createReadStream, readdirSync, readFileSync, readlinkSync, writeFileSync } from "node:fs";
import { constants as osConstants } from "node:os";
import type { Duplex } from "node:stream";
import Docker from "dockerode";
import { pino, type Logger } from "pino";
import type { RunOutcome, RunSpec, SandboxEngine, SandboxSession, Watchdog } from "../sandbox/sandbox.js";
import { openContainerCgroup, type ContainerCgroup } from "./docker.cgroup.js";
import { processAlive } from "../sandbox/process-alive.js";

export interface DockerEngineOptions {
  /** Imported from our own rootfs by scripts/runtime/docker-image.sh; never pulled. */
  image?: string;
  logger?: Logger;
  docker?: Docker;
  /** Accepted for symmetry with the bwrap engine; the docker work dir is a tmpfs inside the container, never a host dir. */
  workRoot?: string;
  /** CPUs the container may use (CFS quota). Default 1: timings stay comparable whatever the host runs. */
  cpus?: number;
  /** Size cap of the /box work dir tmpfs (also counted against the memory limit). */
  workDirBytes?: number;
  /** Size cap of /tmp. */
  tmpBytes?: number;
}

const DEFAULT_IMAGE = "sonocode-runtime:latest";
const SESSION_LABEL = "org.sonocode.judge";
/** host:pid of the judge process that owns a session container, to clean up after a crash. */
const OWNER_LABEL = "org.sonocode.judge.owner";
const OWNER = `${hostname()}:${process.pid}`;
// Three unprivileged uids, none of which can signal or ptrace another:
const USER_UID = 65534; // nobody: owns /box; writeFile and writable runs (compile)
const READONLY_UID = 65532; // runs with writableWorkDir: false (tests): /box is read+exec only
const INIT_UID = 65533; // tini + sleep: a uid user code cannot signal
const BASE_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/box", "LANG=C.UTF-8"];
const MiB = 1024 * 1024;
/** The container's own memory limit until the first run sets the real one. */
const INITIAL_MEMORY = 1024 * MiB;
/** runc needs this long at most to turn an exec request into a running program. */
const STARTUP_TIMEOUT_MS = 15_000;
/** Extra time after the wall limit before we give up on a stream that will not end. */
const STREAM_GRACE_MS = 10_000;
/** Threads of runc init while it sets up an exec (it counts against pids.max). */
const RUNC_PIDS_HEADROOM = 32;
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function createDockerEngine(options: DockerEngineOptions = {}): SandboxEngine {
  const image = options.image ?? DEFAULT_IMAGE;
  const docker = options.docker ?? new Docker();
  const log = (options.logger ?? pino({ level: "silent" })).child({ engine: "docker" });
  const workDirBytes = options.workDirBytes ?? 256 * MiB;
  const tmpBytes = options.tmpBytes ?? 64 * MiB;
  const cpus = options.cpus ?? 1;
  const sessions = new Set<DockerSession>();

  async function open(): Promise<SandboxSession> {
    const name = `sonocode-judge-${randomUUID().slice(0, 13)}`;
    const container = await docker.createContainer({
      name,
      Image: image,
      // tini (Init) reaps orphans of double-forked programs; sleep keeps the container up.
      Cmd: ["/bin/sleep", "infinity"],
      User: `${INIT_UID}:${INIT_UID}`,
      Hostname: "box",
      Env: BASE_ENV,
      WorkingDir: "/box",
      NetworkDisabled: true,
      Labels: { [SESSION_LABEL]: "session", [OWNER_LABEL]: OWNER },
      HostConfig: {
        Init: true,
        NetworkMode: "none",
        ReadonlyRootfs: true,
        // exec on /box: compiled programs run from there. Owned by USER_UID, 0755: test
        // runs (READONLY_UID) can read and run the artefacts but not change them.
        Tmpfs: {
          "/box": `rw,exec,nosuid,nodev,size=${workDirBytes},uid=${USER_UID},gid=${USER_UID},mode=0755`,
          "/tmp": `rw,exec,nosuid,nodev,size=${tmpBytes},mode=1777`,
        },
        ShmSize: 16 * MiB,
        IpcMode: "private",
        CapDrop: ["ALL"],
        SecurityOpt: ["no-new-privileges"],
        Memory: INITIAL_MEMORY,
        MemorySwap: INITIAL_MEMORY, // = Memory: no swap
        PidsLimit: 64,
        NanoCpus: Math.round(cpus * 1e9),
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
      },
    });
    const sessionLog = log.child({ container: container.id.slice(0, 12) });
    try {
      await container.start();
      const info = await container.inspect();
      const cg = openContainerCgroup(info.State.Pid);
      // Wait for tini and its sleep child: they are the baseline no run may touch.
      let baseline: number[] = [];
      for (let i = 0; i < 400 && baseline.length < 2; i++) {
        baseline = cg.pids();
        if (baseline.length < 2) await sleep(5);
      }
      if (baseline.length !== 2) throw new Error(`container init did not come up (pids: ${baseline.join(",")})`);
      for (const pid of baseline) {
        // The OOM killer must pick the program, never the init that keeps the session alive.
        try {
          writeFileSync(`/proc/${pid}/oom_score_adj`, "-1000");
        } catch (err) {
          // Needs CAP_SYS_RESOURCE on the host. Without it the init is still safe in
          // practice: the OOM killer picks the largest process, and tini+sleep are tiny.
          sessionLog.debug({ err }, "cannot protect the container init from the OOM killer");
        }
      }
      const session = new DockerSession(container, info.State.Pid, cg, new Set(baseline), workDirBytes, sessionLog, () => sessions.delete(session));
      sessions.add(session);
      sessionLog.debug({ cgroup: cg.describe, cgroupVersion: cg.version }, "docker session opened");
      return session;
    } catch (err) {
      await container.remove({ force: true }).catch(() => undefined);
      throw err;
    }
  }

  return {
    name: "docker",
    async check() {
      const socket = describeDaemon(docker);
      try {
        await withTimeout(docker.ping(), 5_000, "ping timed out");
      } catch (err) {
        throw new Error(`docker engine: no Docker daemon answers at ${socket} (${errorMessage(err)}); start one with scripts/runtime/docker-image.sh`, { cause: err });
      }
      try {
        await docker.getImage(image).inspect();
      } catch (err) {
        if (statusCode(err) === 404) {
          throw new Error(`docker engine: image ${image} is missing; import it from the runtime rootfs with scripts/runtime/docker-image.sh (it is never pulled)`, { cause: err });
        }
        throw new Error(`docker engine: cannot inspect image ${image}: ${errorMessage(err)}`, { cause: err });
      }
      await removeOrphans(docker, log);
      // A real session proves the rest at once: cgroup access from here, host pid
      // namespace, and that the daemon accepts every hardening option.
      let session: SandboxSession | undefined;
      try {
        session = await open();
        const out = await session.run({
          argv: ["/bin/true"],
          stdin: "",
          limits: { cpuTimeMs: 5_000, wallTimeMs: 10_000, memoryBytes: 64 * MiB, outputBytes: 4096, processes: 4, fileSizeBytes: 4096 },
        });
        if (out.exitCode !== 0) throw new Error(`/bin/true exited with ${out.exitCode ?? out.signal}: ${out.stderr.toString("utf8", 0, 200)}`);
      } catch (err) {
        throw new Error(`docker engine: a smoke session in ${image} failed: ${errorMessage(err)}`, { cause: err });
      } finally {
        await session?.dispose();
      }
    },
    open,
    async close() {
      await Promise.all([...sessions].map((s) => s.dispose()));
    },
  };
}

class DockerSession implements SandboxSession {
  private disposed = false;
  private busy = false;

  /** Names in /tmp and /dev/shm after the last writable run (compile): what read-only runs may see. */
  private scratchBaseline = new Set<string>();

  constructor(
    private readonly container: Docker.Container,
    private readonly initPid: number,
    private readonly cg: ContainerCgroup,
    private readonly baseline: Set<number>,
    private readonly workDirBytes: number,
    private readonly log: Logger,
    private readonly onDispose: () => void,
  ) {}

  async writeFile(name: string, content: string): Promise<void> {
    if (!FILE_NAME.test(name) || name === "." || name === "..") throw new Error(`invalid sandbox file name ${JSON.stringify(name)}`);
    // putArchive cannot be used: the daemon extracts into the image layer under the
    // tmpfs, and it refuses read-only rootfs containers. So dd, inside the container,
    // as the user, with O_NOFOLLOW: a symlink planted in /box is never followed.
    const bytes = Buffer.byteLength(content);
    const out = await this.run({
      argv: ["/bin/dd", `of=/box/${name}`, "oflag=nofollow", "status=none"],
      stdin: content,
      limits: { cpuTimeMs: 5_000, wallTimeMs: 15_000, memoryBytes: 64 * MiB, outputBytes: 4096, processes: 4, fileSizeBytes: bytes + 1 },
    });
    if (out.exitCode !== 0) throw new Error(`writing ${name} into the sandbox failed (${out.exitCode ?? out.signal}): ${out.stderr.toString("utf8").trim().slice(0, 300)}`);
  }

  async run(spec: RunSpec): Promise<RunOutcome> {
    if (this.disposed) throw new Error("docker session already disposed");
    if (this.busy) throw new Error("docker session runs one process at a time");
    if (!spec.argv[0]?.startsWith("/")) throw new Error("argv[0] must be an absolute path");
    this.busy = true;
    try {
      return await this.runOnce(spec);
    } finally {
      this.busy = false;
    }
  }

  private async runOnce(spec: RunSpec): Promise<RunOutcome> {
    const { limits } = spec;
    const cg = this.cg;
    this.assertAlive();
    await this.reap(); // paranoia: the previous run already left nothing

    // Limits of this run. The container-wide charge before the run (init, files in
    // /box and /tmp, page cache) is added to the memory limit so the program gets
    // exactly limits.memoryBytes of its own, and the same baseline is subtracted
    // from the peak we report.
    const baseUsage = cg.memoryUsage();
    const memoryCeiling = baseUsage + limits.memoryBytes;
    cg.setMemoryLimit(memoryCeiling);
    // runc's init (a multi-threaded Go program) lives in the container's pids cgroup
    // until it execs the program; the run's own limit is applied once the program runs.
    const pidsMax = this.baseline.size + limits.processes;
    cg.setPidsLimit(pidsMax + RUNC_PIDS_HEADROOM);
    const oomBefore = cg.oomKills();

    // prlimit sets per-process rlimits and execs the program (no shell): RLIMIT_FSIZE
    // per run, RLIMIT_CPU as a per-process backstop to the host-side CPU watch.
    const fsize = Math.max(1, Math.min(limits.fileSizeBytes, this.workDirBytes));
    const cpuSeconds = Math.ceil(limits.cpuTimeMs / 1000) + 1;
    const argv = [
      "/usr/bin/prlimit",
      `--fsize=${fsize}`,
      `--cpu=${cpuSeconds}`,
      "--core=0",
      `--stack=${Math.max(8 * MiB, limits.memoryBytes)}`,
      "--",
      ...spec.argv,
    ];
    const env = Object.entries(spec.env ?? {}).map(([k, v]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || v.includes("\0")) throw new Error(`invalid environment variable ${JSON.stringify(k)}`);
      return `${k}=${v}`;
    });

    const calledAt = performance.now();
    const exec = await this.container.exec({
      Cmd: argv,
      Env: env,
      // A mount cannot be made read-only per exec without privileges, so a read-only
      // work dir is a uid that does not own it (the compiler's umask 022 leaves the
      // artefacts readable and executable, not writable).
      User: spec.writableWorkDir === false ? `${READONLY_UID}:${READONLY_UID}` : `${USER_UID}:${USER_UID}`,
      WorkingDir: "/box",
      AttachStdin: true,
      AttachStdout: true,
      AttachStderr: true,
      Tty: false,
    });
    const stream: Duplex = await exec.start({ hijack: true, stdin: true });

    let watchdog: Watchdog | null = null;
    let failure: Error | null = null;
    let phase: "starting" | "running" = "starting";
    let seenExec = false;
    // Until the exec'd program replaces runc's init process, keep moving the start
    // line: runc's own CPU time and memory are not the program's.
    let startAt = performance.now();
    let cpuStart = cg.cpuUsageNs();
    cg.resetPeak();
    let endAt: number | null = null;
    let mainPid: number | null = null;
    let inspecting = false;
    let reaping: Promise<void> | null = null;
    let finished = false;

    const kill = (why: Watchdog | null) => {
      if (why && watchdog === null) watchdog = why;
      if (reaping) return;
      reaping = this.reap()
        .catch((err: unknown) => {
          failure ??= err instanceof Error ? err : new Error(String(err));
        })
        .finally(() => {
          reaping = null;
        });
    };

    const output = new OutputCollector(limits.outputBytes, () => kill("output"));
    stream.on("data", (chunk: Buffer) => output.push(chunk));

    let timer: NodeJS.Timeout | undefined;
    const tick = () => {
      if (finished) return;
      const now = performance.now();
      try {
        if (phase === "starting") {
          const others = cg.pids().filter((p) => !this.baseline.has(p));
          // Empty after runc was seen = the program already came and went between two
          // ticks: keep the start line where it is.
          if (others.length > 0) seenExec = true;
          if ((others.length === 0 && !seenExec) || (others.length > 0 && others.every(isRuncInit))) {
            startAt = now;
            cpuStart = cg.cpuUsageNs();
            cg.resetPeak();
          } else {
            phase = "running";
            cg.setPidsLimit(pidsMax);
          }
          if (phase === "starting" && now - calledAt > STARTUP_TIMEOUT_MS) {
            failure ??= new Error(`exec did not start within ${STARTUP_TIMEOUT_MS} ms`);
            kill(null);
            stream.destroy();
          }
        }
        if (phase === "running") {
          cg.sample();
          const cpuMs = (cg.cpuUsageNs() - cpuStart) / 1e6;
          if (cpuMs > limits.cpuTimeMs) kill("cpu");
          else if (now - startAt > limits.wallTimeMs) kill("wall");
          if (mainPid === null) {
            if (!inspecting) {
              inspecting = true;
              exec
                .inspect()
                .then((info) => {
                  if (info.Pid > 0) mainPid = info.Pid;
                })
                .catch(() => undefined)
                .finally(() => {
                  inspecting = false;
                });
            }
          } else if (endAt === null && !isAlive(mainPid)) {
            // The program is done. Anything it left behind (a daemon holding stdout
            // open would keep the stream up ~2 s) is killed now: nothing survives a run.
            endAt = now;
            kill(null);
          }
          if (now - startAt > limits.wallTimeMs + STREAM_GRACE_MS) {
            failure ??= new Error("the exec stream did not end after the run was killed");
            stream.destroy();
          }
        }
      } catch (err) {
        failure ??= err instanceof Error ? err : new Error(String(err));
        stream.destroy();
      }
      timer = setTimeout(tick, phase === "starting" ? 1 : 5);
    };

    const streamDone = new Promise<void>((resolve) => {
      stream.once("end", resolve);
      stream.once("close", resolve);
      // EPIPE/ECONNRESET when the program exits without reading all of stdin: not an error of the run.
      stream.on("error", (err) => this.log.debug({ err }, "exec stream error"));
    });
    tick();
    // A host file (a cached test input) is streamed, never read whole into memory; pipe() half-closes at its end.
    const stdinSpec = spec.stdin;
    const input = typeof stdinSpec === "string" ? null : createReadStream(stdinSpec.path);
    if (input) {
      input.on("error", (err) => {
        failure ??= new Error("cannot read the run's stdin file", { cause: err });
        kill(null);
        stream.destroy();
      });
      input.pipe(stream);
    } else {
      stream.end(Buffer.from(stdinSpec as string, "utf8"));
    }
    await streamDone;
    // The program is gone: a stdin file it did not read to the end is closed here.
    input?.destroy();
    finished = true;
    clearTimeout(timer);
    endAt ??= performance.now();

    while (reaping) await reaping;
    await this.reap(); // whatever is left of this run dies here
    await this.resetScratch(spec.writableWorkDir !== false);

    const cpuTimeMs = Math.max(0, (cg.cpuUsageNs() - cpuStart) / 1e6);
    const peak = cg.peak();
    const oomKilled = cg.oomKills() > oomBefore;
    if (failure) throw failure;

    const info = await waitExecExit(exec);
    const code = info.ExitCode;
    const stdout = output.bytes(1);
    // The daemon reports its own failure to start the process as exit 126 with the
    // reason on stdout: that is a sandbox failure, not the program's outcome.
    if (code === 126 && phase === "starting" && stdout.toString("latin1", 0, 64).startsWith("OCI runtime exec failed")) {
      throw new Error(`docker exec failed: ${stdout.toString("utf8", 0, 300).trim()}`);
    }
    let exitCode: number | null = code;
    let signal: string | null = null;
    // The daemon reports a signal death as 128+N, like a shell does.
    if (code !== null && code > 128 && code <= 128 + 64) {
      const name = signalName(code - 128);
      if (name) {
        exitCode = null;
        signal = name;
      }
    }
    const wallTimeMs = Math.max(0, endAt - startAt);
    const memoryKb = Math.round(Math.max(0, peak - baseUsage) / 1024);

    // Facts only: the core (verdict.ts) decides which limit, if any, this was.
    return {
      exitCode,
      signal,
      stdout,
      stderr: output.bytes(2),
      stdoutBytes: output.written(1),
      stderrBytes: output.written(2),
      cpuTimeMs: Math.round(cpuTimeMs),
      wallTimeMs: Math.round(wallTimeMs),
      memoryKb,
      cgroupPeakKb: memoryKb,
      oomKilled,
      memoryLimitHit: peak >= memoryCeiling,
      watchdog,
    };
  }

  /** Kills every process of the container except its init, until none is left. */
  private async reap(): Promise<void> {
    const others = () => this.cg.pids().filter((p) => !this.baseline.has(p) && p > 1 && p !== process.pid);
    for (let attempt = 0; attempt < 50; attempt++) {
      if (others().length === 0) return;
      // Frozen, nothing can fork or exit between reading the pids and killing them.
      let frozen = false;
      try {
        frozen = await this.cg.freeze();
        for (const pid of others()) {
          try {
            process.kill(pid, "SIGKILL");
          } catch {
            /* already gone */
          }
        }
      } finally {
        this.cg.thaw();
      }
      if (!frozen) this.log.debug("freezer unavailable or slow; killed without freezing");
      for (let i = 0; i < 40 && others().length > 0; i++) await sleep(i < 10 ? 1 : 5);
    }
    throw new Error(`processes survive SIGKILL in the sandbox: ${others().join(",")}`);
  }

  /**
   * /tmp and /dev/shm live as long as the container, but a test must not see what an
   * earlier test left there. Listing them from the host is cheap (a readdir through
   * /proc/<init>/root, which never follows anything); only when a read-only run left
   * something do we pay for a cleanup exec, as that run's uid (its files are the only
   * ones it could create). A writable run (compile) sets what later runs may see.
   */
  private async resetScratch(writable: boolean): Promise<void> {
    if (writable) {
      this.scratchBaseline = new Set(this.scratchEntries());
      return;
    }
    if (this.scratchEntries().every((e) => this.scratchBaseline.has(e))) return;
    const exec = await this.container.exec({
      Cmd: ["/bin/sh", "-c", `chmod -R u+rwx /tmp /dev/shm 2>/dev/null; find /tmp /dev/shm -mindepth 1 -user ${READONLY_UID} -delete 2>/dev/null; exit 0`],
      User: `${READONLY_UID}:${READONLY_UID}`,
      AttachStdout: true,
      AttachStderr: true,
    });
    const stream = await exec.start({});
    stream.resume();
    await new Promise<void>((resolve) => {
      stream.once("end", resolve);
      stream.once("close", resolve);
      stream.on("error", () => resolve());
    });
    await this.reap();
    const left = this.scratchEntries().filter((e) => !this.scratchBaseline.has(e));
    if (left.length > 0) throw new Error(`could not clean the sandbox scratch dirs (${left.length} entries left)`);
  }

  private scratchEntries(): string[] {
    const root = `/proc/${this.initPid}/root`;
    return [...readdirSync(`${root}/tmp`).map((n) => `tmp/${n}`), ...readdirSync(`${root}/dev/shm`).map((n) => `shm/${n}`)];
  }

  private assertAlive(): void {
    const pids = new Set(this.cg.pids());
    for (const pid of this.baseline) {
      if (!pids.has(pid)) throw new Error("the sandbox container's init is gone (container killed or removed)");
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.onDispose();
    this.cg.close();
    try {
      await this.container.remove({ force: true });
      this.log.debug("docker session disposed");
    } catch (err) {
      if (statusCode(err) !== 404) {
        this.log.warn({ err }, "could not remove the sandbox container");
        throw err;
      }
    }
  }
}

/**
 * Splits the daemon's multiplexed exec stream (8-byte header: stream id, 3 zero
 * bytes, big-endian length) into stdout/stderr, keeping at most `limit` bytes in
 * total and calling onOverflow once when the program writes more.
 */
class OutputCollector {
  private readonly header = Buffer.alloc(8);
  private headerLen = 0;
  private remaining = 0;
  private streamId = 0;
  private total = 0;
  private kept = 0;
  private overflowed = false;
  private readonly writtenBytes = new Map<number, number>([
    [1, 0],
    [2, 0],
  ]);
  private readonly chunks = new Map<number, Buffer[]>([
    [1, []],
    [2, []],
  ]);

  constructor(
    private readonly limit: number,
    private readonly onOverflow: () => void,
  ) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining === 0) {
        const take = Math.min(8 - this.headerLen, chunk.length - i);
        chunk.copy(this.header, this.headerLen, i, i + take);
        this.headerLen += take;
        i += take;
        if (this.headerLen === 8) {
          this.streamId = this.header[0] ?? 0;
          this.remaining = this.header.readUInt32BE(4);
          this.headerLen = 0;
        }
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - i);
      this.payload(chunk.subarray(i, i + take));
      this.remaining -= take;
      i += take;
    }
  }

  private payload(data: Buffer): void {
    this.total += data.length;
    const id = this.streamId === 2 ? 2 : 1;
    this.writtenBytes.set(id, (this.writtenBytes.get(id) ?? 0) + data.length);
    const room = this.limit - this.kept;
    if (room > 0) {
      const keep = data.length <= room ? data : data.subarray(0, room);
      this.chunks.get(this.streamId === 2 ? 2 : 1)?.push(keep);
      this.kept += keep.length;
    }
    if (this.total > this.limit && !this.overflowed) {
      this.overflowed = true;
      this.onOverflow();
    }
  }

  /** The kept bytes of stdout (1) or stderr (2), undecoded. */
  bytes(id: 1 | 2): Buffer {
    return Buffer.concat(this.chunks.get(id) ?? []);
  }

  /** Bytes the program wrote to stdout (1) or stderr (2), kept or not. */
  written(id: 1 | 2): number {
    return this.writtenBytes.get(id) ?? 0;
  }
}

/**
 * runc's init process, before it execve()s the program. The name alone ("runc:[2:INIT]")
 * could be forged with prctl(PR_SET_NAME) to dodge the limits, the executable cannot:
 * runc runs from a binary outside the container (shown as "/" or a host runc path).
 */
function isRuncInit(pid: number): boolean {
  try {
    if (!readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("runc:[")) return false;
    const exe = readlinkSync(`/proc/${pid}/exe`);
    return exe === "/" || /^\/usr\/(local\/)?s?bin\/runc$/.test(exe);
  } catch {
    return false;
  }
}

function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/**
 * Removes session containers left by a judge process of this host that is gone
 * (killed before dispose()). Containers of live processes are never touched.
 */
async function removeOrphans(docker: Docker, log: Logger): Promise<void> {
  try {
    const list = await docker.listContainers({ all: true, filters: { label: [`${SESSION_LABEL}=session`] } });
    for (const c of list) {
      const owner = c.Labels[OWNER_LABEL] ?? "";
      const sep = owner.lastIndexOf(":");
      const pid = Number(owner.slice(sep + 1));
      if (owner.slice(0, sep) !== hostname() || !Number.isInteger(pid) || pid <= 0 || processAlive(pid)) continue;
      await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
      log.info({ container: c.Id.slice(0, 12) }, "removed a sandbox container left by a crashed judge");
    }
  } catch (err) {
    log.warn({ err }, "could not look for orphaned sandbox containers");
  }
}

async function waitExecExit(exec: Docker.Exec): Promise<{ ExitCode: number | null }> {
  for (let i = 0; ; i++) {
    const info = await exec.inspect();
    if (!info.Running || i >= 200) return { ExitCode: info.Running ? null : info.ExitCode };
    await sleep(i < 10 ? 2 : 10);
  }
}

// First name wins: SIGABRT over its alias SIGIOT, SIGIO over SIGPOLL.
const SIGNAL_NAMES = new Map<number, string>();
for (const [name, num] of Object.entries(osConstants.signals)) if (!SIGNAL_NAMES.has(num)) SIGNAL_NAMES.set(num, name);
function signalName(num: number): string | null {
  return SIGNAL_NAMES.get(num) ?? null;
}

function statusCode(err: unknown): number | undefined {
  return typeof err === "object" && err !== null && "statusCode" in err && typeof err.statusCode === "number" ? err.statusCode : undefined;
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function describeDaemon(docker: Docker): string {
  const modem = (docker as unknown as { modem?: { socketPath?: unknown; host?: unknown; port?: unknown } }).modem;
  if (typeof modem?.socketPath === "string") return modem.socketPath;
  if (typeof modem?.host === "string") return `${modem.host}:${String(modem.port ?? "")}`;
  return "the configured Docker host";
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
