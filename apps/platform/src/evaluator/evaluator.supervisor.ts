import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { Logger } from "@sonocode/logger";
import { childMessageSchema, type EvaluatorChildConfig, type ParentMessage } from "./evaluator-child.protocol.js";

export interface RestartPolicy {
  /** First wait after a crash; doubles with each crash in a row. */
  initialMs: number;
  maxMs: number;
  /** A child that stayed up this long resets the back-off: its crash is news, not a loop. */
  resetAfterMs: number;
}

export const DEFAULT_RESTART_POLICY: RestartPolicy = { initialMs: 250, maxMs: 30_000, resetAfterMs: 60_000 };

export interface EvaluatorSupervisorOptions {
  config: EvaluatorChildConfig;
  logger: Logger;
  restart?: Partial<RestartPolicy>;
  /** A child not ready by then is killed (the first start then fails; a restart is retried). */
  startTimeoutMs?: number;
  /** A ready child silent this long (no heartbeat: its event loop is wedged) is killed and restarted (default 30 s). */
  hangTimeoutMs?: number;
}

/** The embedded evaluator as the launcher sees it: a child process it keeps alive. */
export interface EvaluatorProcess {
  /** Stable across restarts: every child listens on the port the first one bound. */
  readonly url: string;
  /** The engine the current child judges with ("auto" while its sandbox could not start). */
  readonly engine: string;
  /** Why the current child's sandbox does not work yet, if it does not. */
  readonly sandboxProblem: string | undefined;
  /** The current child's pid; undefined while it is being restarted. */
  readonly pid: number | undefined;
  /** Children started after the first one. */
  readonly restarts: number;
  /** Asks the child to drain and exit, waits (SIGKILL past its drain deadline), and restarts nothing more. */
  close(): Promise<void>;
}

interface ChildHandle {
  child: ChildProcess;
  exited: Promise<void>;
  /** When its last message (heartbeat or ready) arrived. */
  lastHeardAt: number;
}

/** Grace beyond the child's own drain deadline before it is killed outright. */
const KILL_GRACE_MS = 2_000;

/**
 * How to run evaluator.child: under tsx when this file is TypeScript (npm start, tests), plain
 * node once compiled. The tsx loader is resolved from here, so the child works from any cwd.
 */
function childEntry(): { path: string; execArgv: string[] } {
  const typescript = import.meta.url.endsWith(".ts");
  const path = fileURLToPath(new URL(`./evaluator.child.${typescript ? "ts" : "js"}`, import.meta.url));
  return { path, execArgv: typescript ? ["--import", import.meta.resolve("tsx")] : [] };
}

/**
 * Forks the evaluator child, waits until it listens, and restarts it with back-off whenever it
 * exits without being asked (crash, OOM kill, kill -9). The child runs in its own session, so a
 * terminal's Ctrl-C reaches only the launcher, which then stops the child in order; and the child
 * leaves on its own when the launcher dies (its IPC channel closes), so it is never orphaned.
 */
export async function startEvaluatorProcess(options: EvaluatorSupervisorOptions): Promise<EvaluatorProcess> {
  const log = options.logger.child({ component: "evaluator-supervisor" });
  const policy = { ...DEFAULT_RESTART_POLICY, ...options.restart };
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;
  const entry = childEntry();
  const { host } = options.config;

  let port = options.config.port;
  let engine = options.config.sandbox.engine as string;
  let sandboxProblem: string | undefined;
  let current: ChildHandle | undefined;
  let restarts = 0;
  let crashesInARow = 0;
  let readyAt = 0;
  let restartTimer: NodeJS.Timeout | undefined;
  let closing = false;

  /** Forks one child and resolves once it reports ready; rejects if it exits or stalls first. */
  function spawnChild(): Promise<ChildHandle> {
    const child = fork(entry.path, [], {
      execArgv: entry.execArgv,
      detached: true,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      serialization: "json",
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const handle: ChildHandle = { child, exited, lastHeardAt: Date.now() };
    return new Promise<ChildHandle>((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error(`the evaluator process was not ready within ${startTimeoutMs} ms`));
      }, startTimeoutMs);
      child.on("message", (raw: unknown) => {
        const message = childMessageSchema.safeParse(raw);
        if (!message.success) {
          log.warn({ issues: message.error.issues.map((issue) => issue.message) }, "unreadable message from the evaluator process");
          return;
        }
        handle.lastHeardAt = Date.now();
        if (message.data.type !== "ready" || ready) return;
        ready = true;
        clearTimeout(timer);
        port = message.data.port;
        engine = message.data.engine;
        sandboxProblem = message.data.sandboxProblem;
        readyAt = Date.now();
        resolve(handle);
      });
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        if (!ready) reject(new Error(`the evaluator process exited during start-up (code ${code}, signal ${signal})`));
        else if (current?.child === child) onUnexpectedExit(code, signal);
      });
      const start: ParentMessage = { type: "start", config: { ...options.config, port } };
      child.send(start);
    });
  }

  function onUnexpectedExit(code: number | null, signal: NodeJS.Signals | null): void {
    current = undefined;
    if (closing) return;
    if (Date.now() - readyAt >= policy.resetAfterMs) crashesInARow = 0;
    scheduleRestart({ code, signal });
  }

  function scheduleRestart(why: Record<string, unknown>): void {
    const delayMs = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(crashesInARow, 20));
    crashesInARow += 1;
    // Its running jobs are not lost: their locks lapse and the next child (or any evaluator) re-runs them.
    log.error({ ...why, restartInMs: delayMs, crashesInARow }, "the evaluator process died; restarting it");
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (closing) return;
      spawnChild().then(
        (handle) => {
          if (closing) {
            void stopChild(handle);
            return;
          }
          current = handle;
          restarts += 1;
          log.info({ pid: handle.child.pid, port, engine, restarts }, "evaluator process restarted");
        },
        (error: unknown) => scheduleRestart({ err: error }),
      );
    }, delayMs);
  }

  async function stopChild(handle: ChildHandle): Promise<void> {
    const { child } = handle;
    if (child.exitCode !== null || child.signalCode !== null) return;
    const stop: ParentMessage = { type: "shutdown" };
    if (child.connected) child.send(stop);
    else child.kill("SIGTERM");
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), options.config.drainTimeoutMs + KILL_GRACE_MS)));
    const outcome = await Promise.race([handle.exited.then(() => "exited" as const), deadline]);
    clearTimeout(timer);
    if (outcome === "late") {
      log.error({ pid: child.pid }, "the evaluator process did not stop in time; killing it");
      child.kill("SIGKILL");
      await handle.exited;
    }
  }

  current = await spawnChild();
  log.info({ pid: current.child.pid, port, engine }, "evaluator process started");

  // A wedged child (an event loop stuck in a native call, a SIGSTOP) renews no lock and judges
  // nothing, yet never exits: kill it, and the exit path above restarts it.
  const hangTimeoutMs = options.hangTimeoutMs ?? 30_000;
  const watchdog = setInterval(() => {
    const handle = current;
    if (!handle || closing || Date.now() - handle.lastHeardAt < hangTimeoutMs) return;
    log.error({ pid: handle.child.pid, silentMs: Date.now() - handle.lastHeardAt }, "the evaluator process stopped answering; killing it");
    handle.lastHeardAt = Date.now(); // one kill per silence
    handle.child.kill("SIGKILL");
  }, Math.min(1_000, hangTimeoutMs));
  watchdog.unref();

  return {
    get url() {
      return `http://${host}:${port}`;
    },
    get engine() {
      return engine;
    },
    get sandboxProblem() {
      return sandboxProblem;
    },
    get pid() {
      return current?.child.pid;
    },
    get restarts() {
      return restarts;
    },
    async close() {
      closing = true;
      clearInterval(watchdog);
      clearTimeout(restartTimer);
      const handle = current;
      current = undefined;
      if (handle) await stopChild(handle);
    },
  };
}
