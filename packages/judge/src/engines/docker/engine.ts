// The Docker sandbox engine: one fresh, locked-down container per submission
// (container.ts, session.ts), one `docker exec` per run (exec-run.ts), measured and
// killed through the container's cgroup on the host (sandbox/cgroup). Its seccomp
// profile is generated from the same policy as the bwrap engine's filter.
import { mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Docker from "dockerode";
import { pino, type Logger } from "pino";
import type { SandboxEngine, SandboxSession, SessionOptions } from "../../sandbox/sandbox.js";
import { slotCpus, usableCpus } from "../../sandbox/cgroup/cpuset.js";
import { removeStaleMounts } from "../../sandbox/host-mounts.js";
import { ensureHelpers } from "../../sandbox/native-helpers.js";
import { createSessionContainer, removeOrphans } from "./container.js";
import { mountDockerHostFiles, type DockerHostFiles } from "./host-files.js";
import { ensureRootView } from "./root-view.js";
import { DockerSession, statusCode } from "./session.js";

export interface DockerEngineOptions {
  /** Imported from our own rootfs by scripts/runtime/docker-image.sh; never pulled. */
  image?: string;
  logger?: Logger;
  docker?: Docker;
  /** Host directory for the built helpers and the small tmpfs mounts the containers bind (default $TMPDIR/sonocode-judge); the work dir itself is a tmpfs inside the container. */
  workRoot?: string;
  /** CPUs the container may use (CFS quota). Default 1: timings stay comparable whatever the host runs. */
  cpus?: number;
  /**
   * Pin each session slot's container to a CPU of its own (HostConfig.CpusetCpus), so
   * parallel sessions never share a core; more slots than usable CPUs share them
   * round-robin. Default true; the usable CPUs are this process's (its affinity mask).
   */
  pinCpus?: boolean;
  /** Size cap of the /box work dir tmpfs (also counted against the memory limit). */
  workDirBytes?: number;
  /** Size cap of /tmp. */
  tmpBytes?: number;
}

const DEFAULT_IMAGE = "sonocode-runtime:latest";
const MiB = 1024 * 1024;

export function createDockerEngine(options: DockerEngineOptions = {}): SandboxEngine {
  const image = options.image ?? DEFAULT_IMAGE;
  const docker = options.docker ?? new Docker();
  const log = (options.logger ?? pino({ level: "silent" })).child({ engine: "docker" });
  const workRoot = options.workRoot ?? join(tmpdir(), "sonocode-judge");
  const containerOptions = { image, cpus: options.cpus ?? 1, workDirBytes: options.workDirBytes ?? 256 * MiB, tmpBytes: options.tmpBytes ?? 64 * MiB };
  const sessions = new Set<DockerSession>();
  const usable = options.pinCpus === false ? null : usableCpus();
  const slots = new Set<number>();
  let hostFiles: Promise<DockerHostFiles & { rootView: string }> | null = null;

  function files(): Promise<DockerHostFiles & { rootView: string }> {
    hostFiles ??= (async () => {
      await mkdir(workRoot, { recursive: true, mode: 0o711 });
      const stale = await removeStaleMounts(workRoot);
      if (stale > 0) log.warn({ stale }, "removed sandbox mounts left by a previous judge process");
      const rootView = await ensureRootView(workRoot);
      return { ...(await mountDockerHostFiles(workRoot, (await ensureHelpers(workRoot)).run)), rootView };
    })();
    hostFiles.catch(() => {
      hostFiles = null;
    });
    return hostFiles;
  }

  /** The lowest free slot: with the judge's concurrency at most the usable CPUs, slot k has CPU k to itself. */
  function takeSlot(): number {
    let slot = 0;
    while (slots.has(slot)) slot++;
    slots.add(slot);
    return slot;
  }

  async function open(sessionOptions: SessionOptions = {}): Promise<SandboxSession> {
    const { binds, rootView } = await files();
    const slot = takeSlot();
    let session: DockerSession;
    try {
      // A submission's own checker sessions run on its CPU, not on the CPU of the slot they take.
      const pinnedLike = sessionOptions.cpusOf;
      const cpuset = pinnedLike ? (pinnedLike.cpus ?? null) : usable ? slotCpus(slot, usable) : null;
      const box = await createSessionContainer(docker, { ...containerOptions, binds, rootView, cpuset }, log);
      const sessionLog = log.child({ container: box.container.id.slice(0, 12) });
      session = new DockerSession(box, containerOptions.workDirBytes, sessionLog, () => {
        sessions.delete(session);
        slots.delete(slot);
      });
      session.cpus = cpuset;
      // A paired run's helper (an interactor) gets a container of its own on this session's CPU.
      session.openHelper = async () => (await open({ cpusOf: session })) as DockerSession;
      sessionLog.debug({ cgroup: box.cgroup.describe, cgroupVersion: box.cgroup.version, slot, cpuset }, "docker session opened");
    } catch (err) {
      slots.delete(slot);
      throw err;
    }
    sessions.add(session);
    return session;
  }

  let runtime: Promise<string> | null = null;
  return {
    name: "docker",
    runtimeIdentity() {
      // The image id, not its tag: a re-imported runtime under the same tag is another runtime.
      runtime ??= docker.getImage(image).inspect().then((info) => `docker:${info.Id}`);
      runtime.catch(() => {
        runtime = null;
      });
      return runtime;
    },
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
      const made = await hostFiles?.catch(() => null);
      hostFiles = null;
      await made?.release().catch((err: unknown) => log.warn({ err }, "could not unmount the sandbox host files"));
    },
  };
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
