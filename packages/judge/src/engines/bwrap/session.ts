// One bwrap session: a work dir (its own tmpfs, /box inside) that lives across the
// compile and every test, and a launcher kept one run ahead (see engine.ts).
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, constants as fsConstants, openSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { SandboxError } from "../../errors.js";
import type { CgroupManager, RunCgroup } from "../../sandbox/cgroup/run-cgroups.js";
import type { RunOutcome, RunSpec, SandboxSession } from "../../sandbox/sandbox.js";
import { bwrapArgs, CTL_FD } from "./argv.js";
import type { Helpers } from "../../sandbox/native-helpers.js";
import type { EngineMounts, WorkDir } from "./host-mounts.js";
import { runInSandbox } from "./run.js";

/** Processes in a run's cgroup besides the program's own: bwrap (outside the pid namespace), the run helper, and spares for bwrap's setup. */
const SUPERVISOR_PROCESSES = 4;
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

export interface SessionContext {
  helpers: Helpers;
  mounts: EngineMounts;
  cgroups: CgroupManager;
  workDir: WorkDir;
  uid: number;
  /** The slot's persistent network namespace, or null: bwrap then creates one per run. */
  netns: string | null;
  bwrapPath: string;
  logger: Logger | undefined;
  /** The slot's CPUs (cpuset), or undefined: every usable CPU. */
  cpus: readonly number[] | undefined;
  release: () => void;
}

/** A launcher already in its (limit-less, not yet used) run cgroup, waiting for bwrap's command line. */
interface Prepared {
  cgroup: RunCgroup;
  child: ChildProcess;
  dead: boolean;
}

export class BwrapSession implements SandboxSession {
  private disposed = false;
  private readonly active = new Set<() => void>();
  /** The next run's launcher. */
  private prepared: Prepared | null = null;
  /** Run cgroups being removed after their run resolved (already empty: the run killed and waited). */
  private readonly destroying = new Set<Promise<void>>();

  constructor(private readonly ctx: SessionContext) {}

  /** The host path of the work dir. */
  get dir(): string {
    return this.ctx.workDir.path;
  }

  async writeFile(name: string, content: string): Promise<void> {
    if (!SAFE_NAME.test(name)) throw new SandboxError("invalid sandbox file name");
    // O_NOFOLLOW|O_EXCL: never write through anything the sandbox may have planted.
    const handle = await open(join(this.dir, name), fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW, 0o644);
    try {
      await handle.writeFile(content, "utf8");
    } finally {
      await handle.close();
    }
  }

  /** Starts a launcher in a fresh run cgroup; it joins it, enters the netns, drops privileges and waits on CTL_FD. */
  private prepare(): Prepared {
    const cgroup = this.ctx.cgroups.create(undefined, { cpus: this.ctx.cpus });
    let child: ChildProcess;
    let filter: number | null = null;
    try {
      const argv = [this.ctx.bwrapPath, this.ctx.netns ?? "-", String(this.ctx.uid), String(this.ctx.uid), String(CTL_FD), ...cgroup.cgroup.procsFiles()];
      // A fresh open per run: bwrap reads the filter to EOF, so a shared file offset would leave the next run an empty one.
      filter = openSync(this.ctx.helpers.seccomp, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW);
      // The launcher and bwrap get an empty environment.
      child = spawn(this.ctx.helpers.launch, argv, { stdio: ["pipe", "pipe", "pipe", "pipe", "pipe", "pipe", filter], env: {} });
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

  private prepareNext(): void {
    if (this.disposed || this.prepared) return;
    try {
      this.prepared = this.prepare();
    } catch (error) {
      this.ctx.logger?.warn({ err: error }, "could not start a sandbox launcher in advance");
    }
  }

  private track(destroying: Promise<void>): void {
    const done = destroying.catch((error) => this.ctx.logger?.warn({ err: error }, "could not remove a run cgroup"));
    this.destroying.add(done);
    void done.finally(() => this.destroying.delete(done));
  }

  async run(spec: RunSpec): Promise<RunOutcome> {
    if (this.disposed) throw new SandboxError("session disposed");
    if (spec.argv.length === 0 || !spec.argv[0]?.startsWith("/")) throw new SandboxError("argv[0] must be an absolute path");
    const prepared = this.takePrepared();
    const { cgroup } = prepared;
    try {
      cgroup.setLimits({ memoryBytes: spec.limits.memoryBytes, processes: spec.limits.processes + SUPERVISOR_PROCESSES });
    } catch (error) {
      await this.discard(prepared);
      throw error;
    }
    let outcome: RunOutcome;
    try {
      outcome = await runInSandbox({
        launcher: prepared.child,
        cgroup,
        spec,
        args: bwrapArgs(spec, { mounts: this.ctx.mounts, workDir: this.dir, unshareNet: this.ctx.netns === null }),
        logger: this.ctx.logger,
        // Start the next run's launcher once this one is on its way: its cgroup join overlaps this run.
        onSent: () => this.prepareNext(),
        onAbort: (abort) => {
          this.active.add(abort);
          return () => this.active.delete(abort);
        },
      });
    } catch (error) {
      prepared.child.kill("SIGKILL");
      await cgroup.destroy();
      throw error;
    }
    // The run has killed everything and waited for the group to be empty: removing it is off the critical path.
    this.track(cgroup.destroy());
    return outcome;
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const abort of this.active) abort();
    const prepared = this.prepared;
    this.prepared = null;
    if (prepared) this.track(this.discard(prepared));
    // Give killed runs a moment to be reaped before unmounting the dir under them.
    for (let i = 0; i < 200 && this.active.size > 0; i++) await new Promise((r) => setTimeout(r, 5));
    await Promise.all([...this.destroying]);
    try {
      await this.ctx.workDir.release();
    } catch (error) {
      this.ctx.logger?.warn({ err: error }, "could not remove a sandbox work dir");
    } finally {
      this.ctx.release();
    }
  }
}
