// One bwrap-engine session on the persistent executor (native/supervisor.c): one
// supervisor for the whole session, and per run only a fork into a fresh cgroup.
//
// Per run (why it is shaped like this):
//  - the run's cgroup was created, and the supervisor told to fork its init into it,
//    while the previous run was going on ("prep"); here only its limits are set
//    (memory, pids) before the run message goes out, so the program starts limited;
//  - the host keeps its watchdogs (cgroup CPU poll, wall timer, output cap) and kills
//    through the cgroup (cgroup.kill, else freeze-kill-thaw), which takes the run's
//    init and so its whole pid namespace with it;
//  - CPU time, peak memory and OOM kills come from the cgroup, the exit status, peak
//    RSS and the program's wall time from the run's init (host root, unreachable from
//    inside), so no figure the verdict uses comes from the program.
import { realpathSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import type { Logger } from "pino";
import { SandboxError } from "../../errors.js";
import type { CgroupManager, RunCgroup } from "../../sandbox/cgroup/run-cgroups.js";
import { anyRunnable, CpuWaitMeter } from "../../sandbox/cpu-wait.js";
import { OutputCapture } from "../../sandbox/output.js";
import type { PairedRunOutcome, PairedRunSpec, RunOutcome, RunSpec, SandboxSession, Watchdog } from "../../sandbox/sandbox.js";
import { supervisePair } from "./paired-run.js";
import { captured, runFacts, STDERR_KEEP_BYTES } from "./run-facts.js";
import { checkWorkFileName, runMessage } from "./run-spec.js";
import { armWallWatchdog, withSupervisor } from "./wall-watchdog.js";
import { Supervisor, type RunReply, type SupervisorConfig } from "./supervisor.js";

/** The run's init counts in its pids limit (the program's own processes are `limits.processes`). */
const INIT_PROCESSES = 1;


/**
 * realpath(3), as the promise API does it, but inline: for a local test file that is a few
 * syscalls, less than the thread-pool round trip it cost on every run.
 */
function resolvedInput(path: string): string {
  try {
    return realpathSync.native(path);
  } catch (error) {
    throw new SandboxError("cannot read the run's stdin file", { cause: error });
  }
}

export interface SupervisedContext {
  supervisor: Omit<SupervisorConfig, "logger">;
  /** The uid a paired run's helper runs as (never a program's uid). */
  helperUid: number;
  cgroups: CgroupManager;
  /** The slot's CPUs (cpuset), or undefined: every usable CPU. */
  cpus: readonly number[] | undefined;
  logger: Logger | undefined;
  release: () => void;
}

export class SupervisedSession implements SandboxSession {
  private disposed = false;
  private supervisor: Supervisor | null = null;
  /** The next run's cgroup; the supervisor has (been asked to) put its init there. */
  private next: RunCgroup | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private abortRun: (() => void) | null = null;
  private readonly destroying = new Set<Promise<void>>();
  private readonly parents = new Map<string, string>();
  /** The last run's group limits: the next group gets them when it is made (during that run), so a run with the same limits writes none before it starts. */
  private lastLimits: { memoryBytes: number; processes: number } | undefined;

  private constructor(private readonly ctx: SupervisedContext) {}

  static async open(ctx: SupervisedContext): Promise<SupervisedSession> {
    const session = new SupervisedSession(ctx);
    try {
      await session.ensureSupervisor();
    } catch (error) {
      await session.dispose();
      throw error;
    }
    return session;
  }

  get cpus(): readonly number[] | null {
    return this.ctx.cpus ?? null;
  }

  /**
   * The session's /box is a tmpfs in its supervisor's mount namespace only (native/session-box.c:
   * no host mount per session), so its files go through the supervisor (O_EXCL|O_NOFOLLOW there too).
   */
  async writeFile(name: string, content: string): Promise<void> {
    checkWorkFileName(name);
    // In the run queue: a write never races a running program (which could plant the name first).
    const written = this.queue.then(async () => {
      if (this.disposed) throw new SandboxError("session disposed");
      await (await this.ensureSupervisor()).put(name, Buffer.from(content, "utf8"));
    });
    this.queue = written.catch(() => undefined);
    await written;
  }

  /** Runs are one at a time per session (one supervisor, one pair of output pipes). */
  run(spec: RunSpec): Promise<RunOutcome> {
    const result = this.queue.then(() => this.runNow(spec));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async ensureSupervisor(): Promise<Supervisor> {
    if (this.supervisor?.alive) return this.supervisor;
    // The session's /box died with its supervisor: a new one would run the next tests without their artefact.
    if (this.supervisor) throw new SandboxError("the sandbox supervisor of this session is gone, and its work dir with it");
    this.supervisor = await Supervisor.start({ ...this.ctx.supervisor, logger: this.ctx.logger });
    return this.supervisor;
  }

  /** Host paths, resolved here: the supervisor opens them from its kept host root, where an absolute symlink would resolve into the sandbox. */
  private resolvedDirs(cgroup: RunCgroup): string[] {
    return cgroup.cgroup.procsFiles().map((file) => {
      const dir = dirname(file);
      const parent = dirname(dir);
      let real = this.parents.get(parent);
      if (!real) {
        real = realpathSync(parent);
        this.parents.set(parent, real);
      }
      return join(real, basename(dir));
    });
  }

  private prepareNext(supervisor: Supervisor): void {
    if (this.disposed || this.next) return;
    try {
      const cgroup = this.ctx.cgroups.create(this.lastLimits, { cpus: this.ctx.cpus });
      this.next = cgroup;
      supervisor.prepare(cgroup.cgroup.version, this.resolvedDirs(cgroup));
    } catch (error) {
      this.ctx.logger?.warn({ err: error }, "could not prepare the next sandbox run");
    }
  }

  private takeNext(supervisor: Supervisor): RunCgroup {
    if (!this.next) this.prepareNext(supervisor);
    const cgroup = this.next;
    this.next = null;
    if (!cgroup) throw new SandboxError("could not create a run cgroup");
    return cgroup;
  }

  /**
   * The run killed everything and waited: removing its group (whose first checks are
   * synchronous cgroupfs reads) waits for the next turn of the event loop, so the run's
   * outcome, and the next run's start, do not wait for it. Tracked at once: dispose() awaits it.
   */
  private destroyLater(cgroup: RunCgroup): void {
    this.track(new Promise<void>((resolve) => setImmediate(resolve)).then(() => cgroup.destroy()));
  }

  private track(destroying: Promise<void>): void {
    const done = destroying.catch((error) => this.ctx.logger?.warn({ err: error }, "could not remove a run cgroup"));
    this.destroying.add(done);
    void done.finally(() => this.destroying.delete(done));
  }

  private async runNow(spec: RunSpec): Promise<RunOutcome> {
    if (this.disposed) throw new SandboxError("session disposed");
    if (spec.argv.length === 0 || !spec.argv[0]?.startsWith("/")) throw new SandboxError("argv[0] must be an absolute path");
    const stdin = typeof spec.stdin === "string" ? Buffer.from(spec.stdin, "utf8") : { path: resolvedInput(spec.stdin.path) };
    const supervisor = await this.ensureSupervisor();
    const cgroup = this.takeNext(supervisor);
    try {
      const limits = { memoryBytes: spec.limits.memoryBytes, processes: spec.limits.processes + INIT_PROCESSES };
      cgroup.setLimits(limits);
      // Only limits the kernel took are made ahead for the next run (a refused one would fail every later run).
      this.lastLimits = limits;
      return await this.supervise(supervisor, cgroup, spec, stdin);
    } finally {
      this.destroyLater(cgroup);
    }
  }

  private async supervise(supervisor: Supervisor, cgroup: RunCgroup, spec: RunSpec, stdin: Buffer | { path: string }): Promise<RunOutcome> {
    const { limits } = spec;
    let watchdog: Watchdog | null = null;
    let killed = false;
    let endNs = 0n;
    const kill = (why: Watchdog | null) => {
      if (killed) return;
      killed = true;
      watchdog ??= why;
      endNs = process.hrtime.bigint();
      void cgroup.killAll().catch((error) => {
        // The group would not empty: the supervisor is the last resort (its death takes every init).
        this.ctx.logger?.error({ err: error }, "could not kill a sandbox run");
        supervisor.kill();
      });
    };
    this.abortRun = () => kill(null);
    const output = new OutputCapture(limits.outputBytes, STDERR_KEEP_BYTES, () => kill("output"));
    // The supervisor too: a run it has not started yet (starved at its nice value) waits in it.
    const waits = new CpuWaitMeter(() => withSupervisor(supervisor, cgroup.cgroup.pids()));
    const startNs = process.hrtime.bigint();
    const replied = supervisor.run({ ...runMessage(spec), stdin }, { stdout: (c) => output.push(1, c), stderr: (c) => output.push(2, c) });
    // The next run's init is forked (and on v1 joins its group) while this one runs.
    setImmediate(() => this.prepareNext(supervisor));
    const pollMs = Math.max(10, Math.min(100, Math.floor(limits.cpuTimeMs / 20)));
    const cpuPoll = setInterval(() => {
      try {
        if (cgroup.cpuTimeMs() > limits.cpuTimeMs) kill("cpu");
      } catch {
        /* the group is going away */
      }
    }, pollMs);
    const probe = { cpuMs: () => cgroup.cpuTimeMs(), runnable: () => anyRunnable(cgroup.cgroup.pids()) };
    const wall = armWallWatchdog(limits.wallTimeMs, waits, probe, () => kill("wall"), () => {
      this.ctx.logger?.error("a sandbox run did not end after its wall limit and a grace period");
      supervisor.kill();
    });
    let reply: RunReply;
    try {
      reply = await replied;
    } catch (error) {
      this.ctx.logger?.error({ err: error }, "the sandbox supervisor failed during a run");
      throw new SandboxError("sandbox setup failed");
    } finally {
      clearInterval(cpuPoll);
      wall.clear();
      this.abortRun = null;
    }
    const hostWallMs = Number(((endNs || process.hrtime.bigint()) - startNs) / 1000n) / 1000;
    await cgroup.settle();
    const side = { reply, watchdog, killed, hostWallMs, cpuWaitMs: wall.creditedMs(), stats: cgroup.stats(), limits, argv0: spec.argv[0] };
    return runFacts(side, captured(output, 1), captured(output, 2), this.ctx.logger);
  }

  /** A paired run (interactive problems): the program and a helper side by side, streams crossed (paired-run.ts). */
  runPair(spec: PairedRunSpec): Promise<PairedRunOutcome> {
    const result = this.queue.then(() => this.runPairNow(spec));
    this.queue = result.catch(() => undefined);
    return result;
  }

  private async runPairNow(spec: PairedRunSpec): Promise<PairedRunOutcome> {
    if (this.disposed) throw new SandboxError("session disposed");
    for (const argv of [spec.program.argv, spec.helper.argv]) {
      if (argv.length === 0 || !argv[0]?.startsWith("/")) throw new SandboxError("argv[0] must be an absolute path");
    }
    const { input } = spec.helper;
    const side = input instanceof Uint8Array ? Buffer.from(input.buffer, input.byteOffset, input.byteLength) : { path: resolvedInput(input.path) };
    const supervisor = await this.ensureSupervisor();
    const program = this.takeNext(supervisor);
    let helper: RunCgroup | null = null;
    try {
      // The helper's own group (the program's CPUs: they take turns), created now: pairs are rarer than runs.
      helper = this.ctx.cgroups.create(undefined, { cpus: this.ctx.cpus });
      program.setLimits({ memoryBytes: spec.program.limits.memoryBytes, processes: spec.program.limits.processes + INIT_PROCESSES });
      helper.setLimits({ memoryBytes: spec.helper.limits.memoryBytes, processes: spec.helper.limits.processes + INIT_PROCESSES });
      supervisor.prepareHelper(helper.cgroup.version, this.ctx.helperUid, this.resolvedDirs(helper));
      return await supervisePair({ supervisor, program, helper, spec, side, logger: this.ctx.logger, setAbort: (abort) => (this.abortRun = abort), prepareNext: () => this.prepareNext(supervisor) });
    } finally {
      this.destroyLater(program);
      if (helper) this.destroyLater(helper);
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.abortRun?.();
    await this.queue;
    // The supervisor first: on EOF it kills and reaps the init it forked ahead into the next
    // run's group, so that group is empty when it is removed. (Removed first, the group still
    // held that init: every dispose froze, killed, thawed and polled it.) A supervisor that
    // will not end is SIGKILLed, its inits die with it; destroy() kills whatever is left.
    await this.supervisor?.close();
    if (this.next) this.track(this.next.destroy());
    this.next = null;
    await Promise.all([...this.destroying]);
    // The work dir went with the supervisor's mount namespace.
    this.ctx.release();
  }
}
