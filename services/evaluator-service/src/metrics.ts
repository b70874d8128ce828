import { monitorEventLoopDelay, type IntervalHistogram } from "node:perf_hooks";
import { FINAL_STATUSES, type CheckerFailureReason, type FinalStatus } from "@sonocode/contracts";

/**
 * A handful of Prometheus series, rendered by hand: a few counters and gauges do not
 * justify a metrics library. Names follow Prometheus conventions (_total, _seconds).
 */
export class EvaluatorMetrics {
  private readonly byStatus = new Map<FinalStatus, number>(FINAL_STATUSES.map((status) => [status, 0]));
  private judgeSeconds = 0;
  private judgeCount = 0;
  private failed = 0;
  private lockRenewalFailures = 0;
  /** "<problemId> <reason>" -> count: a problem whose custom checker fails needs an admin. */
  private readonly checkerFailures = new Map<string, number>();
  /**
   * Lock renewals are timers on the event loop: a loop blocked for longer than the lock's
   * margin would lose the lock of a healthy judge. The worst delay seen shows how close it came.
   */
  private readonly loopDelay: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  inFlight = 0;
  /** 1 while a broken sandbox keeps this evaluator from taking jobs. */
  outOfRotation = false;

  constructor() {
    this.loopDelay.enable();
  }

  /** Stops the event-loop monitor (its timer would otherwise outlive the evaluator). */
  stop(): void {
    this.loopDelay.disable();
  }

  recordLockRenewalFailures(count: number): void {
    this.lockRenewalFailures += count;
  }

  /** A submission made IE by its problem's custom checker (problem ids are 24-hex: safe as a label). */
  recordCheckerFailure(problemId: string, reason: CheckerFailureReason): void {
    const key = `${problemId} ${reason}`;
    this.checkerFailures.set(key, (this.checkerFailures.get(key) ?? 0) + 1);
  }

  recordResult(status: FinalStatus): void {
    this.byStatus.set(status, (this.byStatus.get(status) ?? 0) + 1);
  }

  recordJudgeDuration(ms: number): void {
    this.judgeSeconds += ms / 1000;
    this.judgeCount += 1;
  }

  /** A job attempt that threw (it may be retried). */
  recordFailedAttempt(): void {
    this.failed += 1;
  }

  private maxLoopDelaySeconds(): number {
    // The histogram's max is in nanoseconds; before the first sample it is 0.
    return this.loopDelay.max / 1e9;
  }

  snapshot(): {
    results: Record<FinalStatus, number>;
    judgeCount: number;
    judgeSeconds: number;
    inFlight: number;
    failedAttempts: number;
    lockRenewalFailures: number;
    outOfRotation: boolean;
    maxEventLoopDelaySeconds: number;
  } {
    return {
      results: Object.fromEntries(this.byStatus) as Record<FinalStatus, number>,
      judgeCount: this.judgeCount,
      judgeSeconds: this.judgeSeconds,
      inFlight: this.inFlight,
      failedAttempts: this.failed,
      lockRenewalFailures: this.lockRenewalFailures,
      outOfRotation: this.outOfRotation,
      maxEventLoopDelaySeconds: this.maxLoopDelaySeconds(),
    };
  }

  render(): string {
    const lines = [
      "# HELP sonocode_evaluator_jobs_total Submissions evaluated, by final status.",
      "# TYPE sonocode_evaluator_jobs_total counter",
      ...[...this.byStatus].map(([status, count]) => `sonocode_evaluator_jobs_total{status="${status}"} ${count}`),
      "# HELP sonocode_evaluator_job_attempts_failed_total Job attempts that threw (retried or failed).",
      "# TYPE sonocode_evaluator_job_attempts_failed_total counter",
      `sonocode_evaluator_job_attempts_failed_total ${this.failed}`,
      "# HELP sonocode_evaluator_judge_duration_seconds Time spent in judge(), compile plus all tests.",
      "# TYPE sonocode_evaluator_judge_duration_seconds summary",
      `sonocode_evaluator_judge_duration_seconds_sum ${this.judgeSeconds}`,
      `sonocode_evaluator_judge_duration_seconds_count ${this.judgeCount}`,
      "# HELP sonocode_evaluator_jobs_in_flight Jobs being evaluated right now.",
      "# TYPE sonocode_evaluator_jobs_in_flight gauge",
      `sonocode_evaluator_jobs_in_flight ${this.inFlight}`,
      "# HELP sonocode_evaluator_lock_renewals_failed_total Job locks that could not be renewed (the job may be re-run elsewhere).",
      "# TYPE sonocode_evaluator_lock_renewals_failed_total counter",
      `sonocode_evaluator_lock_renewals_failed_total ${this.lockRenewalFailures}`,
      "# HELP sonocode_evaluator_out_of_rotation 1 while a broken sandbox keeps this evaluator from taking jobs.",
      "# TYPE sonocode_evaluator_out_of_rotation gauge",
      `sonocode_evaluator_out_of_rotation ${this.outOfRotation ? 1 : 0}`,
      "# HELP sonocode_evaluator_event_loop_delay_max_seconds Worst event-loop delay since start (lock renewals run on the loop).",
      "# TYPE sonocode_evaluator_event_loop_delay_max_seconds gauge",
      `sonocode_evaluator_event_loop_delay_max_seconds ${this.maxLoopDelaySeconds()}`,
      "# HELP sonocode_checker_failures_total Submissions made IE because their problem's custom checker failed (the problem needs an admin), by problem and reason.",
      "# TYPE sonocode_checker_failures_total counter",
      ...[...this.checkerFailures].map(([key, count]) => {
        const [problem, reason] = key.split(" ");
        return `sonocode_checker_failures_total{problem="${problem}",reason="${reason}"} ${count}`;
      }),
    ];
    return `${lines.join("\n")}\n`;
  }
}
