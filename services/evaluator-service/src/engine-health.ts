import type { Logger } from "@sonocode/logger";

export interface EngineHealthOptions {
  /** One trivial sandboxed run (Judge.selfTest); rejects when the engine does not work. */
  selfTest: () => Promise<void>;
  /** Sandbox failures in a row (jobs or self-tests) that take this evaluator out of rotation. */
  failureThreshold: number;
  /** How long /health trusts a self-test result, and how often an out-of-rotation evaluator retests. */
  selfTestIntervalMs: number;
  /** A self-test that hangs this long counts as failed (a wedged engine is a broken one). */
  selfTestTimeoutMs: number;
  logger: Logger;
  /** Called once when the engine is declared broken: stop taking jobs. */
  onBroken: (reason: string) => Promise<void> | void;
  /** Called once when a self-test passes again: take jobs again. */
  onRecovered: () => Promise<void> | void;
}

export interface EngineStatus {
  healthy: boolean;
  /** Why the engine is considered broken (a SandboxError message: no host paths). */
  reason: string | null;
  /** Out of rotation: the worker is paused until a self-test passes. */
  outOfRotation: boolean;
  consecutiveFailures: number;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Tracks whether this evaluator's sandbox works. A verdict proves it does; a SandboxError
 * counts against it. After `failureThreshold` failures in a row the evaluator takes itself
 * out of rotation (onBroken pauses its worker, so healthy evaluators get the jobs instead of
 * this one failing them all) and retests every `selfTestIntervalMs` until a self-test passes.
 * /health asks check(), which runs at most one self-test per interval (cached, single-flight).
 */
export class EngineHealth {
  private consecutiveFailures = 0;
  private lastError: string | null = null;
  private broken = false;
  private lastSelfTest: { at: number; error: string | null } | null = null;
  private inFlight: Promise<string | null> | null = null;
  private retestTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Serialises broken/recovered transitions so pause and resume never interleave. */
  private transition: Promise<void> = Promise.resolve();

  constructor(private readonly options: EngineHealthOptions) {}

  status(): EngineStatus {
    const selfTestError = this.lastSelfTest?.error ?? null;
    return {
      healthy: !this.broken && selfTestError === null,
      reason: this.broken ? this.lastError : selfTestError,
      outOfRotation: this.broken,
      consecutiveFailures: this.consecutiveFailures,
    };
  }

  /** The engine produced a verdict: it works now, as surely as a self-test would show (so /health skips one). */
  recordVerdict(): void {
    this.consecutiveFailures = 0;
    if (!this.broken) this.lastSelfTest = { at: Date.now(), error: null };
  }

  /** A job's judge rejected with a SandboxError. Resolves once this evaluator is out of rotation, if it now is. */
  async recordSandboxFailure(error: unknown): Promise<void> {
    this.countFailure(`the sandbox failed: ${message(error)}`);
    await this.transition;
  }

  /** For /health: the current status, after a self-test when the cached one is older than the interval. */
  async check(): Promise<EngineStatus> {
    const fresh = this.lastSelfTest && Date.now() - this.lastSelfTest.at < this.options.selfTestIntervalMs;
    // While out of rotation the retest loop keeps the result fresh; no extra runs from probes.
    if (!fresh && !this.broken && !this.closed) await this.runSelfTest();
    return this.status();
  }

  /** Stops the retest loop and waits for a running self-test. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retestTimer);
    await this.inFlight?.catch(() => undefined);
    await this.transition;
  }

  /**
   * Before the first job: one self-test. An engine that cannot pass it never takes a job; it is
   * out of rotation at once (not after a threshold of failed submissions) and retests from there.
   */
  async admit(): Promise<boolean> {
    const error = await this.runSelfTest();
    if (error === null) return true;
    if (!this.broken) this.declareBroken(error);
    await this.transition;
    return false;
  }

  private countFailure(reason: string): void {
    this.consecutiveFailures += 1;
    this.lastError = reason;
    if (!this.broken && this.consecutiveFailures >= this.options.failureThreshold) {
      this.declareBroken(`${this.consecutiveFailures} sandbox failures in a row; last: ${reason}`);
    }
  }

  private declareBroken(why: string): void {
    this.broken = true;
    this.lastError = why;
    this.options.logger.error({ consecutiveFailures: this.consecutiveFailures, reason: why }, "sandbox engine broken: this evaluator stops taking jobs until a self-test passes");
    this.transition = this.transition.then(() => this.options.onBroken(why)).catch((error: unknown) => {
      this.options.logger.error({ err: error }, "could not take the evaluator out of rotation");
    });
    this.scheduleRetest();
  }

  /** Runs one self-test (joining one already running); resolves its error message or null. */
  private runSelfTest(): Promise<string | null> {
    this.inFlight ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`sandbox self-test timed out after ${this.options.selfTestTimeoutMs} ms`)), this.options.selfTestTimeoutMs);
      });
      let error: string | null = null;
      try {
        await Promise.race([this.options.selfTest(), timeout]);
      } catch (failure) {
        error = `sandbox self-test failed: ${message(failure)}`;
      } finally {
        clearTimeout(timer);
      }
      this.lastSelfTest = { at: Date.now(), error };
      if (error === null) this.onSelfTestPassed();
      else {
        this.options.logger.warn({ reason: error }, "sandbox self-test failed");
        this.countFailure(error);
      }
      return error;
    })().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private onSelfTestPassed(): void {
    this.consecutiveFailures = 0;
    if (!this.broken) return;
    this.broken = false;
    this.lastError = null;
    this.options.logger.info("sandbox self-test passed: this evaluator takes jobs again");
    this.transition = this.transition.then(() => this.options.onRecovered()).catch((error: unknown) => {
      this.options.logger.error({ err: error }, "could not put the evaluator back in rotation");
    });
  }

  private scheduleRetest(): void {
    if (this.closed) return;
    clearTimeout(this.retestTimer);
    this.retestTimer = setTimeout(() => {
      void this.runSelfTest().then(() => {
        if (this.broken) this.scheduleRetest();
      });
    }, this.options.selfTestIntervalMs);
    // The retest alone must not keep a closing process alive.
    this.retestTimer.unref();
  }
}
