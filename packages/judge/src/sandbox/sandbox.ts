// The seam between the judge and its sandbox engines (bwrap, docker).
// The judge compiles once and runs every test inside ONE session (one work dir,
// and for docker one container); each run() is one sandboxed process tree.

export interface RunLimits {
  /** CPU time (user+sys) of the whole process tree; over it -> limit "time". */
  cpuTimeMs: number;
  /** Wall-clock time; a sleeping or blocked program is killed here -> limit "wall". */
  wallTimeMs: number;
  /** Peak memory of the process tree, enforced and measured through the cgroup -> limit "memory". */
  memoryBytes: number;
  /** Bytes of stdout+stderr kept; a program writing more is killed -> limit "output". */
  outputBytes: number;
  /** Max processes/threads in the tree (pids cgroup). */
  processes: number;
  /** RLIMIT_FSIZE: the largest file the program may write. */
  fileSizeBytes: number;
}

export interface RunSpec {
  /** argv[0] is an absolute path inside the runtime root. Never a shell string. */
  argv: string[];
  /** Bytes fed to stdin through a pipe or file, never through a shell. */
  stdin: string;
  limits: RunLimits;
  /** Extra environment (the sandbox starts from an empty environment plus PATH/HOME/LANG). */
  env?: Record<string, string>;
  /** Whether the work dir is writable for this run (compile: yes; tests: engine's choice, default yes). */
  writableWorkDir?: boolean;
}

export type LimitHit = "time" | "wall" | "memory" | "output" | null;

export interface RunOutcome {
  exitCode: number | null;
  /** e.g. "SIGSEGV" when the program died by a signal. */
  signal: string | null;
  stdout: string;
  stderr: string;
  cpuTimeMs: number;
  wallTimeMs: number;
  memoryKb: number;
  /** Which limit ended the run, if any. */
  limit: LimitHit;
}

/** One submission's sandbox: a private work dir (/box inside) that lives across compile + all runs. */
export interface SandboxSession {
  /** Writes a file into the work dir from the host side (the source file). Never follows symlinks. */
  writeFile(name: string, content: string): Promise<void>;
  run(spec: RunSpec): Promise<RunOutcome>;
  /** Kills anything left and removes the work dir and any container/cgroup. Idempotent. */
  dispose(): Promise<void>;
}

export interface SandboxEngine {
  readonly name: "bwrap" | "docker";
  /** Throws a clear error when the engine cannot work on this host. */
  check(): Promise<void>;
  open(): Promise<SandboxSession>;
  close(): Promise<void>;
}
