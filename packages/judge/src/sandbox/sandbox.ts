// The seam between the judge and its sandbox engines (bwrap, docker).
// The judge compiles once and runs every test inside ONE session (one work dir,
// and for docker one container); each run() is one sandboxed process tree.
//
// Engines report facts, the core decides: a RunOutcome is only what the kernel and
// the engine's own watchdogs measured. Which limit a run hit, and so its verdict, is
// decided once, in verdict.ts, identically for every engine.

export interface RunLimits {
  /** CPU time (user+sys) of the whole process tree; the engine's cpu watchdog kills past it. */
  cpuTimeMs: number;
  /** Wall-clock time; a sleeping or blocked program is killed here by the wall watchdog. */
  wallTimeMs: number;
  /** Peak memory of the process tree, enforced and measured through the cgroup. */
  memoryBytes: number;
  /** Bytes of stdout+stderr kept; a program writing more is killed by the output watchdog. */
  outputBytes: number;
  /** Max processes/threads in the tree (pids cgroup). */
  processes: number;
  /** RLIMIT_FSIZE: the largest file the program may write. */
  fileSizeBytes: number;
}

/** What a run's stdin is: bytes from memory, or a host file streamed in (a cached test input). */
export type RunStdin = string | { readonly path: string };

export interface RunSpec {
  /** argv[0] is an absolute path inside the runtime root. Never a shell string. */
  argv: string[];
  /** Fed through a pipe or stream, never through a shell. A `path` is an absolute host path, read by the host (never by the sandbox). */
  stdin: RunStdin;
  limits: RunLimits;
  /** Extra environment (the sandbox starts from an empty environment plus PATH/HOME/LANG). */
  env?: Record<string, string>;
  /** Whether the work dir is writable for this run (compile: yes; tests: engine's choice, default yes). */
  writableWorkDir?: boolean;
}

/** The engine watchdog that killed the run, if one did. */
export type Watchdog = "cpu" | "wall" | "output";

/** Which limit a run hit, as decided by the core (verdict.ts) from a RunOutcome. */
export type LimitHit = "time" | "wall" | "memory" | "output" | null;

/** Measurements of one run. No verdicts: see classifyRun() in verdict.ts. */
export interface RunOutcome {
  /** Exit status when the program exited; null when it died by a signal. */
  exitCode: number | null;
  /** e.g. "SIGSEGV" when the program died by a signal (SIGKILL when a watchdog killed it). */
  signal: string | null;
  /** Raw bytes as written by the program (kept up to the output limit): never decoded by an engine. */
  stdout: Buffer;
  /** Raw bytes (engines may keep less of stderr than of stdout). */
  stderr: Buffer;
  /** Bytes the program wrote to stdout / stderr in total, kept or not. */
  stdoutBytes: number;
  stderrBytes: number;
  /** CPU time (user+sys) of the run's process tree, from the cgroup. */
  cpuTimeMs: number;
  /** Wall time from the program's start to its end (or kill), measured on the host. */
  wallTimeMs: number;
  /**
   * Of that wall time, how long the program was runnable but waited for a CPU held by other work
   * (the kernel's run-queue delay), as far as the engine measured it: the wall limit does not
   * count it. Engines measure it when the wall limit is reached; absent or 0 otherwise.
   */
  cpuWaitMs?: number;
  /** The program's peak memory as the engine measures it best (peak RSS, else the cgroup peak). */
  memoryKb: number;
  /** Peak charge of the run's cgroup (baseline of a shared container subtracted). */
  cgroupPeakKb: number;
  /** The kernel OOM-killed a process of the run (cgroup oom_kill counter). */
  oomKilled: boolean;
  /** The cgroup's memory limit was reached at least once (failcnt / events max, or peak at the ceiling). */
  memoryLimitHit: boolean;
  /** The watchdog that killed the run, if any (null also when the run was aborted from outside). */
  watchdog: Watchdog | null;
}

/**
 * A program run side by side with a trusted helper (an interactive problem's interactor),
 * their standard streams crossed: the helper's stdout is the program's stdin and the
 * program's stdout the helper's stdin. The helper runs as another uid, in a cgroup, pid,
 * mount and IPC namespace of its own (the program can neither signal, trace nor read it),
 * with its own limits; its `input` (e.g. the test's files) arrives on its fd 3, and its
 * work dir is its own fresh /tmp (the program's /box is not readable to it).
 */
export interface PairedRunSpec {
  /** The program: its stdin is the helper's stdout, so none is given. The pair ends at its wall limit. */
  program: Omit<RunSpec, "stdin">;
  /** The helper: its stdin is the program's stdout; `input` (raw bytes, or a host file) is its fd 3. */
  helper: Omit<RunSpec, "stdin"> & { input: Uint8Array | { readonly path: string } };
}

/**
 * Facts of both sides. The program's stdout went to the helper: it is empty here, and its
 * stdoutBytes is what it wrote towards the helper, counted against its output limit (an
 * engine ends the pair one byte past it, as an "output" watchdog). The helper's stdout went
 * to the program: neither kept nor counted (stdoutBytes 0).
 */
export interface PairedRunOutcome {
  program: RunOutcome;
  helper: RunOutcome;
}

/** How a session is opened. */
export interface SessionOptions {
  /**
   * Pin the new session's runs to the CPUs of this one: a submission's own helper sessions
   * (its custom checker's) run on the submission's CPU, never on another submission's slot.
   */
  cpusOf?: SandboxSession;
}

/** One submission's sandbox: a private work dir (/box inside) that lives across compile + all runs. */
export interface SandboxSession {
  /** The CPUs this session's runs are pinned to; null when unpinned. */
  readonly cpus?: readonly number[] | null;
  /** Writes a file into the work dir from the host side (the source file). Never follows symlinks. */
  writeFile(name: string, content: string): Promise<void>;
  run(spec: RunSpec): Promise<RunOutcome>;
  /** A paired run (interactive problems); absent where the engine cannot run pairs. */
  runPair?(spec: PairedRunSpec): Promise<PairedRunOutcome>;
  /** Kills anything left and removes the work dir and any container/cgroup. Idempotent. */
  dispose(): Promise<void>;
}

export interface SandboxEngine {
  readonly name: "bwrap" | "docker";
  /** Throws a clear error when the engine cannot work on this host. */
  check(): Promise<void>;
  open(options?: SessionOptions): Promise<SandboxSession>;
  /**
   * Which runtime the sandboxes run (bwrap: the rootfs tree, Docker: the image id). Anything
   * built in a sandbox (custom checkers) is cached under it: a binary built against another
   * runtime's libraries must not be reused. Absent: the artefact cache cannot tell runtimes apart.
   */
  runtimeIdentity?(): Promise<string>;
  close(): Promise<void>;
}
