// @sonocode/judge: judge(request) -> verdict inside a sandbox engine (bwrap or docker).
import type { Logger } from "pino";
import { createBwrapEngine, DEFAULT_ROOTFS } from "./engines/bwrap/engine.js";
import { createDockerEngine } from "./engines/docker/engine.js";
import { createJudgeWithEngine, type Judge } from "./judge.js";
import type { SandboxEngine } from "./sandbox/sandbox.js";

export type { Judge, JudgeProgress, JudgeCallOptions, JudgeCoreOptions, JudgeTimings } from "./judge.js";
export { createJudgeWithEngine, FAILED_TEST_DISPLAY_CHARS, WALL_TIME_FACTOR } from "./judge.js";
export { capRunText, runProgram, type RunCall } from "./run-session.js";
export { LANGUAGE_REGISTRY, languageSpec, type LanguageSpec, type RunContext } from "./languages.js";
export { checkOutput, checkExact, checkTokens, checkFloat, floatsEqual, DEFAULT_FLOAT_EPSILON, MAX_NUMBER_TOKEN_BYTES } from "./checkers.js";
export { createCheckPool, type CheckPool, type CheckPoolOptions, type ExpectedSource } from "./check/check-pool.js";
export { classifyRun, runStatus, ranOutOfMemory } from "./verdict.js";
export { createBwrapEngine, DEFAULT_ROOTFS, type BwrapEngineOptions } from "./engines/bwrap/engine.js";
export { SandboxError, isSandboxError } from "./errors.js";
export { processAlive } from "./sandbox/owner.js";
export { createDockerEngine } from "./engines/docker/engine.js";
export type { SandboxEngine, SandboxSession, SessionOptions, RunSpec, RunStdin, RunLimits, RunOutcome, LimitHit, Watchdog, PairedRunSpec, PairedRunOutcome } from "./sandbox/sandbox.js";

export const DEFAULT_DOCKER_IMAGE = "sonocode-runtime:latest";

export interface JudgeOptions {
  /** "auto": bwrap if it works here, else docker if a daemon answers, else an error. Never unsandboxed. */
  engine: "bwrap" | "docker" | "auto";
  /** Runtime root filesystem for bwrap (default /var/lib/sonocode/runtime/rootfs). */
  rootfs?: string;
  /** Runtime image for docker (default sonocode-runtime:latest). */
  dockerImage?: string;
  logger?: Logger;
  /** Parent cgroup for bwrap runs, relative to each hierarchy root (default "sonocode"). */
  cgroupRoot?: string;
  /** Submissions judged at once (default: number of CPUs). */
  maxConcurrency?: number;
  /** Open each free slot's next session ahead (see JudgeCoreOptions.warmSessions; default false). */
  warmSessions?: boolean;
  /**
   * Nice value (0-19) of the bwrap engine's sandboxes (supervisors, compiles, programs), so judging
   * yields the CPU to the API on the same host; default 0 (the judge's own). The Docker engine's
   * containers are the Docker daemon's children and keep its priority.
   */
  sandboxNice?: number;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function selectEngine(options: JudgeOptions): Promise<SandboxEngine> {
  const bwrap = () =>
    createBwrapEngine({ rootfs: options.rootfs ?? DEFAULT_ROOTFS, logger: options.logger, cgroupRoot: options.cgroupRoot, nice: options.sandboxNice ?? 0 });
  const docker = () => createDockerEngine({ image: options.dockerImage ?? DEFAULT_DOCKER_IMAGE, logger: options.logger });
  if (options.engine === "bwrap" || options.engine === "docker") {
    const engine = options.engine === "bwrap" ? bwrap() : docker();
    await engine.check();
    return engine;
  }
  const failures: string[] = [];
  for (const make of [bwrap, docker]) {
    const engine = make();
    try {
      await engine.check();
      options.logger?.info({ engine: engine.name }, "sandbox engine selected");
      return engine;
    } catch (error) {
      failures.push(`${engine.name}: ${errorText(error)}`);
      await engine.close().catch(() => undefined);
    }
  }
  throw new Error(`no sandbox engine works on this host (user code is never run unsandboxed): ${failures.join("; ")}`);
}

export async function createJudge(options: JudgeOptions): Promise<Judge> {
  const engine = await selectEngine(options);
  return createJudgeWithEngine(engine, { logger: options.logger, maxConcurrency: options.maxConcurrency, warmSessions: options.warmSessions });
}
