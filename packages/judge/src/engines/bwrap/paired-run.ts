// A paired run on the bwrap engine (interactive problems): the program and a helper (the
// interactor) started by the session's supervisor side by side, each by an init of its own
// (pid 1 of its own pid, mount, IPC namespaces), with their standard streams crossed by
// pipes the supervisor made (native/runs.c, pair_command()).
//
// Why it is shaped like this:
//  - the helper is trusted code the program must not reach: it runs as another host uid
//    (the slot's helper uid), in a cgroup of its own with its own limits, so the program can
//    neither signal, trace, read nor starve it, and cannot charge it its own CPU or memory;
//  - each side is measured alone (its cgroup, its init's exit status and wall clock), and
//    each side has its own CPU watchdog; one wall timer bounds the pair: two sides waiting
//    for each other make no progress and are both killed at the program's wall limit;
//  - a watchdog kills both groups: a pair is over when either side is stopped by the host;
//  - the program's stdout goes to the helper through the supervisor (spliced, counted): only
//    it sees those bytes, so it ends the pair once the program has written more than its
//    output limit, and reports the count; here that count is the program's stdoutBytes and
//    the end an "output" watchdog, the same facts a plain run's flood gives (a program
//    flooding an interactor that reads one growing line is OLE, not the interactor's
//    memory limit and IE);
//  - only facts leave here (two RunOutcomes); the interactive protocol decides the verdict.
import type { Logger } from "pino";
import { SandboxError } from "../../errors.js";
import type { RunCgroup } from "../../sandbox/cgroup/run-cgroups.js";
import { anyRunnable, CpuWaitMeter } from "../../sandbox/cpu-wait.js";
import { withSupervisor } from "./wall-watchdog.js";
import { OutputCapture } from "../../sandbox/output.js";
import type { PairedRunOutcome, PairedRunSpec, Watchdog } from "../../sandbox/sandbox.js";
import { captured, runFacts, STDERR_KEEP_BYTES, type RunSide } from "./run-facts.js";
import { runMessage } from "./run-spec.js";
import type { PairReply, Supervisor } from "./supervisor.js";
import { armWallWatchdog } from "./wall-watchdog.js";

export interface PairContext {
  supervisor: Supervisor;
  program: RunCgroup;
  helper: RunCgroup;
  spec: PairedRunSpec;
  /** The helper's fd 3: inline bytes or a resolved host path. */
  side: Buffer | { path: string };
  logger: Logger | undefined;
  /** Registers how to abort the pair (the session's dispose), or clears it. */
  setAbort(abort: (() => void) | null): void;
  /** Forks the next plain run's init while this pair runs. */
  prepareNext(): void;
}

const EMPTY = { bytes: Buffer.alloc(0), written: 0 };

export async function supervisePair(ctx: PairContext): Promise<PairedRunOutcome> {
  const { supervisor, spec } = ctx;
  const groups = { program: ctx.program, helper: ctx.helper };
  const watchdogs: { program: Watchdog | null; helper: Watchdog | null } = { program: null, helper: null };
  let killed = false;
  let endNs = 0n;
  const kill = (who: "program" | "helper" | null, why: Watchdog | null) => {
    if (who) watchdogs[who] ??= why;
    if (killed) return;
    killed = true;
    endNs = process.hrtime.bigint();
    for (const group of [groups.program, groups.helper]) {
      void group.killAll().catch((error) => {
        // The group would not empty: the supervisor is the last resort (its death takes every init).
        ctx.logger?.error({ err: error }, "could not kill a sandbox run");
        supervisor.kill();
      });
    }
  };
  ctx.setAbort(() => kill(null, null));
  // Stream 2 of each capture is that side's stderr; the program's stdout went to the helper.
  const programOut = new OutputCapture(spec.program.limits.outputBytes, STDERR_KEEP_BYTES, () => kill("program", "output"));
  const helperOut = new OutputCapture(spec.helper.limits.outputBytes, STDERR_KEEP_BYTES, () => kill("helper", "output"));
  // The supervisor too: it starts both sides and relays the program's output to the helper.
  const waits = new CpuWaitMeter(() => withSupervisor(supervisor, [...groups.program.cgroup.pids(), ...groups.helper.cgroup.pids()]));
  const startNs = process.hrtime.bigint();
  const replied = supervisor.runPair(
    runMessage(spec.program),
    { ...runMessage(spec.helper), stdin: ctx.side },
    { stdout: (c) => helperOut.push(2, c), stderr: (c) => programOut.push(2, c) },
    spec.program.limits.outputBytes,
  );
  setImmediate(() => ctx.prepareNext());
  const cpuWatch = (who: "program" | "helper") => {
    const limit = spec[who].limits.cpuTimeMs;
    return setInterval(() => {
      try {
        if (groups[who].cpuTimeMs() > limit) kill(who, "cpu");
      } catch {
        /* the group is going away */
      }
    }, Math.max(10, Math.min(100, Math.floor(limit / 20))));
  };
  const cpuWatches = [cpuWatch("program"), cpuWatch("helper")];
  // One wall limit bounds the pair (the program's); time either side waited for the CPU is granted.
  const sides = () => [...groups.program.cgroup.pids(), ...groups.helper.cgroup.pids()];
  // The two sides take turns on the pair's CPU: their CPU time together is what the pair got.
  const probe = { cpuMs: () => groups.program.cpuTimeMs() + groups.helper.cpuTimeMs(), runnable: () => anyRunnable(sides()) };
  const wall = armWallWatchdog(
    spec.program.limits.wallTimeMs,
    waits,
    probe,
    () => {
      // Neither side is blamed here: the facts (who had ended by itself) decide.
      watchdogs.program ??= "wall";
      watchdogs.helper ??= "wall";
      kill(null, null);
    },
    () => {
      ctx.logger?.error("a paired sandbox run did not end after its wall limit and a grace period");
      supervisor.kill();
    },
  );
  let reply: PairReply;
  try {
    reply = await replied;
  } catch (error) {
    ctx.logger?.error({ err: error }, "the sandbox supervisor failed during a paired run");
    throw new SandboxError("sandbox setup failed");
  } finally {
    for (const t of cpuWatches) clearInterval(t);
    wall.clear();
    ctx.setAbort(null);
  }
  if (reply.program.kind === "error" || !reply.helper) {
    ctx.logger?.error({ stage: reply.program.stage, errno: reply.program.value }, "sandbox paired run setup failed");
    throw new SandboxError("sandbox setup failed");
  }
  // The supervisor ended the pair: the program wrote more than its output limit towards the helper.
  const crossed = reply.program.crossedBytes;
  if (crossed > spec.program.limits.outputBytes) {
    watchdogs.program ??= "output";
    killed = true;
  }
  const hostWallMs = Number(((endNs || process.hrtime.bigint()) - startNs) / 1000n) / 1000;
  await Promise.all([groups.program.killAll(), groups.helper.killAll()]);
  const side = (who: "program" | "helper", answer: NonNullable<PairReply["helper"]>): RunSide => ({
    reply: answer,
    watchdog: watchdogs[who],
    killed,
    hostWallMs,
    cpuWaitMs: wall.creditedMs(),
    stats: groups[who].stats(),
    limits: spec[who].limits,
    argv0: spec[who].argv[0],
  });
  return {
    // Its stdout is not kept (the helper read it), only counted.
    program: runFacts(side("program", reply.program), { bytes: EMPTY.bytes, written: crossed }, captured(programOut, 2), ctx.logger),
    helper: runFacts(side("helper", reply.helper), EMPTY, captured(helperOut, 2), ctx.logger),
  };
}
