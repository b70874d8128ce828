// Errors of the judge itself (never of the program being judged).

/**
 * The sandbox, not the program, failed: the engine could not start, measure or clean up a run
 * (dockerd gone, rootfs missing, cgroup write refused). judge() rejects with it instead of
 * resolving IE, so the caller can retry on another attempt or another evaluator and take a
 * broken evaluator out of rotation. Messages never carry host paths (details go to the log).
 */
export class SandboxError extends Error {
  override readonly name = "SandboxError";
  /** Retrying elsewhere may succeed: nothing about the submission caused this. */
  readonly retryable = true as const;
}

export function isSandboxError(error: unknown): error is SandboxError {
  return error instanceof SandboxError;
}
