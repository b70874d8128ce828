// One run in a Docker session: a `docker exec` of prlimit + the program, measured on
// the container's cgroup from the host. Docker knows nothing about "runs" inside a
// container, so the run's figures are cgroup deltas: the page cache earlier runs left
// is reclaimed first and the memory limit is set to (what is left + the run's limit),
// so the program gets exactly its limit and the reported peak is its own; the peak is
// reset and the CPU start line moved until the exec'd program replaces runc's init;
// OOM kills are the kernel's counter. CPU and wall watchdogs poll from the host.
import { createReadStream } from "node:fs";
import type { Duplex, Readable } from "node:stream";
import type Docker from "dockerode";
import type { Logger } from "pino";
import type { Cgroup } from "../../sandbox/cgroup/cgroup.js";
import { OutputCapture } from "../../sandbox/output.js";
import type { RunOutcome, RunSpec, Watchdog } from "../../sandbox/sandbox.js";
import { fromShellStatus } from "../../sandbox/signals.js";
import { READONLY_UID, USER_UID } from "./container.js";
import { ExecDemuxer, isAlive, isRuncInit, waitExecExit } from "./exec-stream.js";

const MiB = 1024 * 1024;
/** runc needs this long at most to turn an exec request into a running program. */
const STARTUP_TIMEOUT_MS = 15_000;
/** Extra time after the wall limit before we give up on a stream that will not end. */
const STREAM_GRACE_MS = 10_000;
/** Threads of runc init while it sets up an exec (it counts against pids.max). */
const RUNC_PIDS_HEADROOM = 32;
/** Kept of stderr (the rest counts, and is dropped). */
const STDERR_KEEP_BYTES = 64 * 1024;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface ExecContext {
  container: Docker.Container;
  cgroup: Cgroup;
  baseline: ReadonlySet<number>;
  workDirBytes: number;
  log: Logger;
  /** Kills every process of the container but the baseline. */
  reap: () => Promise<void>;
}

/** A paired run's wiring (exec-pair.ts): the exec's stdin from a stream, its stdout handed on, its end told. */
export interface ExecHooks {
  /** Piped into the exec's stdin instead of spec.stdin (its end half-closes it). */
  input: Readable;
  /**
   * Every stdout chunk, as it arrives. A pair's stdout is the other side's input, not this
   * run's output: it is neither kept nor counted here (the run's output limit bounds its
   * stderr); exec-pair.ts counts the program's against its limit.
   */
  onStdout(chunk: Buffer): void;
  /** The exec's output streams have ended (the program is gone). */
  onEnd(): void;
  /** Once the exec is started: how the pair holds back its output (backpressure) and stops it (the output watchdog). */
  attach(control: ExecControl): void;
}

export interface ExecControl {
  /** Stops reading the exec's output (stdout and stderr share one stream) until resume(). */
  pause(): void;
  resume(): void;
  /** Kills the run as its output watchdog. */
  killForOutput(): void;
}

/** Bytes of a pair's stdout kept for the daemon's own start failure message (see below). */
const START_FAILURE_BYTES = 300;

export async function execRun(ctx: ExecContext, spec: RunSpec, hooks?: ExecHooks): Promise<RunOutcome> {
  const { limits } = spec;
  const cg = ctx.cgroup;

  // Page cache left by the compile and earlier runs is neither the program's to use nor
  // to be charged for: drop it, so what stays charged (the init, files in /box and /tmp)
  // is what the program cannot reclaim, and the ceiling above it is exactly its limit.
  cg.reclaim();
  const baseUsage = cg.memoryUsage();
  const memoryCeiling = baseUsage + limits.memoryBytes;
  cg.setMemoryLimit(memoryCeiling);
  // runc's init (a multi-threaded Go program) lives in the container's pids cgroup
  // until it execs the program; the run's own limit is applied once the program runs.
  const pidsMax = ctx.baseline.size + limits.processes;
  cg.setPidsLimit(pidsMax + RUNC_PIDS_HEADROOM);
  const oomBefore = cg.oomKills();
  const hitsBefore = cg.limitHits();

  // prlimit sets per-process rlimits and execs the program (no shell): RLIMIT_FSIZE
  // per run, RLIMIT_CPU as a per-process backstop to the host-side CPU watch.
  const fsize = Math.max(1, Math.min(limits.fileSizeBytes, ctx.workDirBytes));
  const cpuSeconds = Math.ceil(limits.cpuTimeMs / 1000) + 1;
  const argv = ["/usr/bin/prlimit", `--fsize=${fsize}`, `--cpu=${cpuSeconds}`, "--core=0", `--stack=${Math.max(8 * MiB, limits.memoryBytes)}`, "--", ...spec.argv];
  const env = Object.entries(spec.env ?? {}).map(([k, v]) => {
    if (!ENV_NAME.test(k) || v.includes("\0")) throw new Error(`invalid environment variable ${JSON.stringify(k)}`);
    return `${k}=${v}`;
  });

  const calledAt = performance.now();
  const exec = await ctx.container.exec({
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

  // A pair's stream held back by its target (exec-pair.ts: backpressure) flows again from the
  // moment the run is killed, and is never held back after: the daemon ends an exec's stream
  // only once it has written the process's last output, so two sides both full and both
  // held back (each waiting for the other's end to release it) never ended: the grace below
  // then failed the pair (IE) instead of its wall limit (TLE).
  let released = false;
  const kill = (why: Watchdog | null) => {
    if (why && watchdog === null) watchdog = why;
    if (hooks && !released) {
      released = true;
      stream.resume();
    }
    if (reaping) return;
    reaping = ctx
      .reap()
      .catch((err: unknown) => {
        failure ??= err instanceof Error ? err : new Error(String(err));
      })
      .finally(() => {
        reaping = null;
      });
  };

  const output = new OutputCapture(limits.outputBytes, STDERR_KEEP_BYTES, () => kill("output"));
  // A pair's stdout only goes on; its first bytes are kept for the daemon's start failure message.
  let startBytes = Buffer.alloc(0);
  const demux = new ExecDemuxer(
    hooks
      ? {
          push: (id, data) => {
            if (id !== 1) return output.push(id, data);
            if (startBytes.length < START_FAILURE_BYTES) startBytes = Buffer.concat([startBytes, data.subarray(0, START_FAILURE_BYTES - startBytes.length)]);
            hooks.onStdout(data);
          },
        }
      : output,
  );
  stream.on("data", (chunk: Buffer) => demux.push(chunk));
  hooks?.attach({
    pause: () => {
      if (!released) stream.pause();
    },
    resume: () => stream.resume(),
    killForOutput: () => kill("output"),
  });

  let timer: NodeJS.Timeout | undefined;
  const tick = () => {
    if (finished) return;
    const now = performance.now();
    try {
      if (phase === "starting") {
        const others = cg.pids().filter((p) => !ctx.baseline.has(p));
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
    stream.on("error", (err) => ctx.log.debug({ err }, "exec stream error"));
  });
  tick();
  // A host file (a cached test input) is streamed, never read whole into memory; pipe() half-closes at its end.
  const stdinSpec = spec.stdin;
  const input = hooks ? hooks.input : typeof stdinSpec === "string" ? null : createReadStream(stdinSpec.path);
  if (input) {
    input.on("error", (err: Error) => {
      failure ??= new Error("cannot read the run's stdin file", { cause: err });
      kill(null);
      stream.destroy();
    });
    input.pipe(stream);
  } else {
    stream.end(Buffer.from(stdinSpec as string, "utf8"));
  }
  await streamDone;
  hooks?.onEnd();
  // The program is gone: a stdin file it did not read to the end is closed here.
  input?.destroy();
  finished = true;
  clearTimeout(timer);
  endAt ??= performance.now();

  while (reaping) await reaping;
  await ctx.reap(); // whatever is left of this run dies here

  const cpuTimeMs = Math.max(0, (cg.cpuUsageNs() - cpuStart) / 1e6);
  const peak = cg.memoryPeak();
  const oomKilled = cg.oomKills() > oomBefore;
  const limitHit = cg.limitHits() > hitsBefore;
  if (failure) throw failure;

  const code = await waitExecExit(exec);
  const stdout = hooks ? startBytes : output.bytes(1);
  // The daemon reports its own failure to start the process as exit 126 with the
  // reason on stdout: that is a sandbox failure, not the program's outcome.
  if (code === 126 && phase === "starting" && stdout.toString("latin1", 0, 64).startsWith("OCI runtime exec failed")) {
    throw new Error(`docker exec failed: ${stdout.toString("utf8", 0, 300).trim()}`);
  }
  // The daemon reports a signal death as 128+N, like a shell does.
  const { exitCode, signal } = code === null ? { exitCode: null, signal: null } : fromShellStatus(code);
  const memoryKb = Math.round(Math.max(0, peak - baseUsage) / 1024);

  // Facts only: the core (verdict.ts) decides which limit, if any, this was.
  return {
    exitCode,
    signal,
    // A pair's stdout went to the other side (exec-pair.ts reports the program's count).
    stdout: hooks ? Buffer.alloc(0) : stdout,
    stderr: output.bytes(2),
    stdoutBytes: output.written(1),
    stderrBytes: output.written(2),
    cpuTimeMs: Math.round(cpuTimeMs),
    wallTimeMs: Math.round(Math.max(0, endAt - startAt)),
    memoryKb,
    cgroupPeakKb: memoryKb,
    oomKilled,
    memoryLimitHit: limitHit || peak >= memoryCeiling,
    watchdog,
  };
}
