// One bwrap run, from the command line sent to a prepared launcher to the facts the
// core judges (RunOutcome). The program may start as soon as bwrap is up: the cgroup
// already holds the launcher and the limits are set, so the watchdogs start with the
// command line and nothing waits on a round trip.
import type { ChildProcess } from "node:child_process";
import { createReadStream } from "node:fs";
import type { Logger } from "pino";
import { SandboxError } from "../../errors.js";
import type { RunCgroup } from "../../sandbox/cgroup/run-cgroups.js";
import { OutputCapture } from "../../sandbox/output.js";
import type { RunOutcome, RunSpec, Watchdog } from "../../sandbox/sandbox.js";
import { fromShellStatus, signalName } from "../../sandbox/signals.js";
import { CTL_FD, INFO_FD, STATUS_FD } from "./argv.js";

const STDERR_KEEP_BYTES = 64 * 1024;
/** Setup itself must not hang (e.g. a wedged mount): bounded independently of the program. */
const SETUP_GRACE_MS = 10_000;

export interface RunRequest {
  launcher: ChildProcess;
  cgroup: RunCgroup;
  spec: RunSpec;
  /** bwrap's argument list (options, "--", command). */
  args: string[];
  logger: Logger | undefined;
  /** Called once the command line is on its way (the session prepares the next launcher then). */
  onSent: () => void;
  /** Registers the run's abort (dispose kills runs in flight); returns the unregister function. */
  onAbort: (abort: () => void) => () => void;
}

interface Ended {
  code: number | null;
  sig: NodeJS.Signals | null;
  status: string;
  started: boolean;
  setupError: Error | null;
  watchdog: Watchdog | null;
  killed: boolean;
  wallTimeMs: number;
  output: OutputCapture;
}

export function runInSandbox(req: RunRequest): Promise<RunOutcome> {
  return collect(req).then((ended) => finish(req, ended));
}

function collect(req: RunRequest): Promise<Ended> {
  const { launcher: child, cgroup, spec, logger } = req;
  const { limits } = spec;
  return new Promise<Ended>((resolve, reject) => {
    const startNs = process.hrtime.bigint();
    try {
      // spawn() would refuse these; over the control pipe a NUL would split an argument.
      if (req.args.some((a) => a.includes("\0"))) throw new SandboxError("sandbox arguments must not contain NUL");
      const ctl = (child.stdio as unknown as Array<NodeJS.WritableStream>)[CTL_FD]!;
      ctl.end(Buffer.from(req.args.map((a) => `${a}\0`).join(""), "utf8"));
      setImmediate(req.onSent);
    } catch (error) {
      reject(error);
      return;
    }
    const stdio = child.stdio as unknown as Array<NodeJS.ReadWriteStream>;
    const [stdin, stdout, stderr] = [child.stdin!, child.stdout!, child.stderr!];
    const infoFd = stdio[INFO_FD]!;
    const statusFd = stdio[STATUS_FD]!;

    let info = "";
    let status = "";
    let started = false;
    let endNs = 0n;
    let watchdog: Watchdog | null = null;
    let killed = false;
    let settled = false;
    let setupError: Error | null = null;
    const timers: NodeJS.Timeout[] = [];

    const kill = (why: Watchdog | null) => {
      if (killed) return;
      killed = true;
      watchdog ??= why;
      if (endNs === 0n && started) endNs = process.hrtime.bigint();
      child.kill("SIGKILL");
      // bwrap's death already takes the namespace down; this catches anything racing it.
      void cgroup.killAll().catch(() => undefined);
    };
    const unregister = req.onAbort(() => kill(null));
    const output = new OutputCapture(limits.outputBytes, STDERR_KEEP_BYTES, () => kill("output"));

    stdout.on("data", (c: Buffer) => output.push(1, c));
    stderr.on("data", (c: Buffer) => output.push(2, c));
    statusFd.on("data", (c: Buffer) => {
      status += c.toString("latin1");
    });
    // EPIPE on stdin (program did not read it) or resets after a kill are normal.
    for (const stream of [stdin, stdout, stderr, infoFd, statusFd] as NodeJS.EventEmitter[]) stream.on("error", () => undefined);

    // A host file (a cached test input) is streamed, never read whole into memory.
    const input = typeof spec.stdin === "string" ? null : createReadStream(spec.stdin.path);
    if (input) {
      input.on("error", (error) => {
        setupError ??= new SandboxError("cannot read the run's stdin file", { cause: error });
        kill(null);
      });
      input.pipe(stdin);
    } else {
      stdin.end(spec.stdin);
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
      setTimeout(() => {
        if (!started) {
          setupError ??= new SandboxError("sandbox setup timed out");
          kill(null);
        }
      }, SETUP_GRACE_MS + limits.wallTimeMs),
    );
    infoFd.on("data", (c: Buffer) => {
      if (started) return;
      info += c.toString("utf8");
      // bwrap writes its child's pid once the namespaces are up: from here on a silent exit is the program's.
      if (/"child-pid"\s*:\s*\d+/.test(info)) started = true;
    });

    child.on("error", (error) => {
      setupError ??= error;
    });
    if (child.exitCode !== null || child.signalCode !== null) setupError ??= new SandboxError("sandbox launcher exited early");
    child.on("close", (code, sig) => {
      if (settled) return;
      settled = true;
      if (endNs === 0n) endNs = process.hrtime.bigint();
      for (const t of timers) clearTimeout(t);
      unregister();
      // The program is gone: a stdin file it did not read to the end is closed here.
      input?.destroy();
      const wallTimeMs = started ? Number((endNs - startNs) / 1_000_000n) : 0;
      logger?.trace({ code, sig }, "bwrap exited");
      resolve({ code, sig, status, started, setupError, watchdog, killed, wallTimeMs, output });
    });
  });
}

async function finish(req: RunRequest, r: Ended): Promise<RunOutcome> {
  const { cgroup, spec, logger } = req;
  if (r.setupError) {
    logger?.error({ err: r.setupError }, "sandbox setup failed");
    throw new SandboxError("sandbox setup failed");
  }
  await cgroup.killAll();
  const stats = cgroup.stats();
  let exitCode: number | null = null;
  let signal: string | null = null;
  let maxRssKb = 0;
  // The helper (pid 1, non-dumpable, unreachable from the program) writes one line at the end.
  const line = /^(exit|signal|execfail) (-?\d+)(?: (\d+))?\n$/.exec(r.status);
  if (line) {
    const value = Number(line[2]);
    if (line[1] === "execfail") {
      logger?.error({ errno: value, argv0: spec.argv[0] }, "sandboxed exec failed");
      throw new SandboxError("sandboxed program could not be started");
    }
    if (line[1] === "exit") exitCode = value;
    else signal = signalName(value);
    maxRssKb = Number(line[3] ?? 0);
  } else if (!r.started && !r.watchdog) {
    logger?.error({ code: r.code, stderr: r.output.bytes(2).toString("utf8", 0, 500) }, "bwrap exited before the program started");
    throw new SandboxError("sandbox failed to start");
  } else if (r.killed || r.sig || stats.oomKilled) {
    // A watchdog or an abort killed the run, or the OOM killer took the helper.
    signal = "SIGKILL";
  } else {
    // The helper ended without a status line (it cannot be signalled or rewritten from
    // inside, so this is one of its own setup failures): report bwrap's view of it.
    logger?.warn({ code: r.code }, "the run helper ended without a status");
    ({ exitCode, signal } = fromShellStatus(r.code ?? 1));
  }
  // Facts only: the core (verdict.ts) decides which limit, if any, this was.
  return {
    exitCode,
    signal,
    stdout: r.output.bytes(1),
    stderr: r.output.bytes(2),
    stdoutBytes: r.output.written(1),
    stderrBytes: r.output.written(2),
    cpuTimeMs: stats.cpuTimeMs,
    wallTimeMs: r.wallTimeMs,
    // The program's peak RSS (stable across runs); the cgroup peak also counts page cache
    // the run happened to fault in first, so it is only the fallback.
    memoryKb: maxRssKb || stats.memoryPeakKb,
    cgroupPeakKb: stats.memoryPeakKb,
    oomKilled: stats.oomKilled,
    memoryLimitHit: stats.limitReached,
    watchdog: r.watchdog,
  };
}
