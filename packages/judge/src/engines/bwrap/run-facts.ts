// One bwrap-engine run's facts, from what the run's init answered (exit status, peak RSS,
// the program's wall time), what the host's watchdogs did, and the run's cgroup (CPU,
// peak memory, OOM kills). Shared by plain and paired runs (supervised-session.ts,
// paired-run.ts). Facts only: verdict.ts decides.
import { constants } from "node:os";
import type { Logger } from "pino";
import { SandboxError } from "../../errors.js";
import type { CgroupStats } from "../../sandbox/cgroup/run-cgroups.js";
import type { OutputCapture } from "../../sandbox/output.js";
import type { RunLimits, RunOutcome, Watchdog } from "../../sandbox/sandbox.js";
import { signalName } from "../../sandbox/signals.js";
import type { RunReply } from "./supervisor.js";

/** Bytes of stderr kept (head and tail). */
export const STDERR_KEEP_BYTES = 64 * 1024;
/** A run that never answers (a wedged supervisor) is bounded independently of the program. */
export const SETUP_GRACE_MS = 10_000;

/**
 * The init saw the program end by itself: an exit, or a signal other than the SIGKILL the
 * host's kill delivers (a program killed by the host through its group may be reaped by
 * its init just before the init dies too, and would then look like "signal 9").
 */
export function endedByItself(reply: RunReply): boolean {
  return reply.kind === "exit" || (reply.kind === "signal" && reply.value !== constants.signals.SIGKILL);
}

/**
 * The watchdog that really ended the run. A wall watchdog can fire after the program ended
 * on its own, before its init's answer is read (the host's timer and the answer race: a
 * busy event loop runs due timers before pending I/O). The init's own clock then shows a
 * wall time within the limit, and the run was not the watchdog's: it is ignored.
 */
export function effectiveWatchdog(watchdog: Watchdog | null, reply: RunReply, limits: RunLimits, cpuWaitMs = 0): Watchdog | null {
  if (watchdog === "wall" && endedByItself(reply) && reply.wallUs > 0 && reply.wallUs / 1000 - cpuWaitMs <= limits.wallTimeMs) return null;
  return watchdog;
}

export interface RunSide {
  reply: RunReply;
  /** The watchdog the host fired on this side, if any (before effectiveWatchdog). */
  watchdog: Watchdog | null;
  /** Whether the host killed this run's group (a watchdog, or an abort). */
  killed: boolean;
  /** The host's wall time from sending the run to the kill (or to the answer). */
  hostWallMs: number;
  /** Run-queue delay the wall watchdog granted (0 when the run ended within its wall limit). */
  cpuWaitMs?: number;
  stats: CgroupStats;
  limits: RunLimits;
  argv0: string | undefined;
}

/** The facts of one run; throws SandboxError when the sandbox, not the program, failed. */
export function runFacts(side: RunSide, stdout: { bytes: Buffer; written: number }, stderr: { bytes: Buffer; written: number }, logger: Logger | undefined): RunOutcome {
  const { reply, stats } = side;
  let exitCode: number | null = null;
  let signal: string | null = null;
  switch (reply.kind) {
    case "exit":
      exitCode = reply.value;
      break;
    case "signal":
      signal = signalName(reply.value);
      break;
    case "killed":
      // A watchdog, an abort or the OOM killer took the run's init (and so the whole run).
      signal = "SIGKILL";
      break;
    case "execfail":
      logger?.error({ errno: reply.value, argv0: side.argv0 }, "sandboxed exec failed");
      throw new SandboxError("sandboxed program could not be started");
    default:
      // Includes child-<stage>: the program's own setup (rlimits, identity, seccomp) failed before exec.
      logger?.error({ stage: reply.stage, errno: reply.value }, "sandbox run setup failed");
      throw new SandboxError("sandbox setup failed");
  }
  const cpuWaitMs = side.cpuWaitMs ?? 0;
  const watchdog = effectiveWatchdog(side.watchdog, reply, side.limits, cpuWaitMs);
  // The init's own clock when the program ended by itself; the host's when a watchdog ended it.
  const byInit = reply.wallUs > 0 && (!side.killed || watchdog === null);
  return {
    exitCode,
    signal,
    stdout: stdout.bytes,
    stderr: stderr.bytes,
    stdoutBytes: stdout.written,
    stderrBytes: stderr.written,
    cpuTimeMs: stats.cpuTimeMs,
    wallTimeMs: byInit ? reply.wallUs / 1000 : side.hostWallMs,
    cpuWaitMs,
    // The program's peak RSS (stable across runs); the cgroup peak also counts page cache the run faulted in first.
    memoryKb: reply.maxRssKb || stats.memoryPeakKb,
    cgroupPeakKb: stats.memoryPeakKb,
    oomKilled: stats.oomKilled,
    memoryLimitHit: stats.limitReached,
    watchdog,
  };
}

/** A capture's stream as runFacts takes it. */
export function captured(output: OutputCapture, stream: 1 | 2): { bytes: Buffer; written: number } {
  return { bytes: output.bytes(stream), written: output.written(stream) };
}
