// One Docker session: a container that lives across the compile and every test, one
// `docker exec` per run (exec-run.ts). After every run the container is killed back
// to its init, its SysV IPC objects are removed, and what a test left in /tmp,
// /dev/shm and /dev/mqueue is deleted: nothing a run started or made is there for
// the next one (bwrap gets the same from a fresh IPC namespace and tmpfs per run).
import { execFile } from "node:child_process";
import { readdirSync } from "node:fs";
import { promisify } from "node:util";
import type Docker from "dockerode";
import type { Logger } from "pino";
import { killAll } from "../../sandbox/cgroup/kill.js";
import type { PairedRunOutcome, PairedRunSpec, RunOutcome, RunSpec, SandboxSession } from "../../sandbox/sandbox.js";
import { READONLY_UID, type SessionContainer } from "./container.js";
import { execPair } from "./exec-pair.js";
import { execRun, type ExecHooks } from "./exec-run.js";

const exec = promisify(execFile);
const MiB = 1024 * 1024;
const FILE_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const SCRATCH_DIRS = ["tmp", "dev/shm", "dev/mqueue"];

export class DockerSession implements SandboxSession {
  /** The container's CpusetCpus (set by the engine), null when unpinned. */
  cpus: readonly number[] | null = null;
  /** Opens the container a paired run's helper runs in (set by the engine: another container, this session's CPU). */
  openHelper: (() => Promise<DockerSession>) | null = null;
  private helper: Promise<DockerSession> | null = null;
  private disposed = false;
  private busy = false;
  /** Entries of the scratch dirs after the last writable run (compile): what read-only runs may see. */
  private scratchBaseline = new Set<string>();

  constructor(
    private readonly box: SessionContainer,
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

  run(spec: RunSpec): Promise<RunOutcome> {
    return this.runHooked(spec);
  }

  /**
   * A paired run (exec-pair.ts): the program here, the helper in a container of its own,
   * made on the first pair and kept for the session (its scratch dirs are reset per run).
   */
  async runPair(spec: PairedRunSpec): Promise<PairedRunOutcome> {
    if (this.disposed) throw new Error("docker session already disposed");
    if (!this.openHelper) throw new Error("this docker session cannot run pairs");
    this.helper ??= this.openHelper();
    this.helper.catch(() => {
      this.helper = null;
    });
    const helper = await this.helper;
    return execPair((s, hooks) => this.runHooked(s, hooks), (s, hooks) => helper.runHooked(s, hooks), spec);
  }

  /** One run; with hooks, its stdin and stdout are a paired run's (exec-run.ts ExecHooks). */
  async runHooked(spec: RunSpec, hooks?: ExecHooks): Promise<RunOutcome> {
    if (this.disposed) throw new Error("docker session already disposed");
    if (this.busy) throw new Error("docker session runs one process at a time");
    if (!spec.argv[0]?.startsWith("/")) throw new Error("argv[0] must be an absolute path");
    this.busy = true;
    try {
      this.assertAlive();
      await this.reap(); // paranoia: the previous run already left nothing
      const outcome = await execRun(
        { container: this.box.container, cgroup: this.box.cgroup, baseline: this.box.baseline, workDirBytes: this.workDirBytes, log: this.log, reap: () => this.reap() },
        spec,
        hooks,
      );
      await this.resetIpc();
      await this.resetScratch(spec.writableWorkDir !== false);
      return outcome;
    } finally {
      this.busy = false;
    }
  }

  /** Kills every process of the container except its init, until none is left. */
  private reap(): Promise<void> {
    return killAll(this.box.cgroup, this.box.baseline);
  }

  /** SysV shared memory, semaphores and message queues live in the container's IPC namespace: remove them all. */
  private async resetIpc(): Promise<void> {
    await exec("nsenter", [`--target=${this.box.initPid}`, "--ipc", "--", "ipcrm", "--all"], { env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin" } });
  }

  /**
   * /tmp, /dev/shm (POSIX shm) and /dev/mqueue (POSIX message queues) live as long as
   * the container, but a test must not see what an earlier test left there. Listing
   * them from the host is cheap (a readdir through /proc/<init>/root, which never
   * follows anything); only when a read-only run left something do we pay for a
   * cleanup exec, as that run's uid (its files are the only ones it could create).
   * A writable run (compile) sets what later runs may see.
   */
  private async resetScratch(writable: boolean): Promise<void> {
    if (writable) {
      this.scratchBaseline = new Set(this.scratchEntries());
      return;
    }
    if (this.scratchEntries().every((e) => this.scratchBaseline.has(e))) return;
    const dirs = SCRATCH_DIRS.map((d) => `/${d}`).join(" ");
    const exec = await this.box.container.exec({
      Cmd: ["/bin/sh", "-c", `chmod -R u+rwx ${dirs} 2>/dev/null; find ${dirs} -mindepth 1 -user ${READONLY_UID} -delete 2>/dev/null; exit 0`],
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
    const root = `/proc/${this.box.initPid}/root`;
    return SCRATCH_DIRS.flatMap((dir) => {
      try {
        return readdirSync(`${root}/${dir}`).map((n) => `${dir}/${n}`);
      } catch {
        return []; // e.g. no mqueue mount
      }
    });
  }

  private assertAlive(): void {
    const pids = new Set(this.box.cgroup.pids());
    for (const pid of this.box.baseline) {
      if (!pids.has(pid)) throw new Error("the sandbox container's init is gone (container killed or removed)");
    }
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const helper = this.helper;
    this.helper = null;
    await helper?.then((h) => h.dispose()).catch((err: unknown) => this.log.warn({ err }, "could not dispose a paired-run helper container"));
    this.onDispose();
    this.box.cgroup.close();
    try {
      await this.box.container.remove({ force: true });
      this.log.debug("docker session disposed");
    } catch (err) {
      if (statusCode(err) !== 404) {
        this.log.warn({ err }, "could not remove the sandbox container");
        throw err;
      }
    }
  }
}

export function statusCode(err: unknown): number | undefined {
  return typeof err === "object" && err !== null && "statusCode" in err && typeof err.statusCode === "number" ? err.statusCode : undefined;
}
