import { FINAL_STATUSES, type FinalStatus } from "@sonocode/contracts";

/**
 * A handful of Prometheus series, rendered by hand: three counters and a gauge do not
 * justify a metrics library. Names follow Prometheus conventions (_total, _seconds).
 */
export class EvaluatorMetrics {
  private readonly byStatus = new Map<FinalStatus, number>(FINAL_STATUSES.map((status) => [status, 0]));
  private judgeSeconds = 0;
  private judgeCount = 0;
  private failed = 0;
  inFlight = 0;

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

  snapshot(): { results: Record<FinalStatus, number>; judgeCount: number; judgeSeconds: number; inFlight: number; failedAttempts: number } {
    return {
      results: Object.fromEntries(this.byStatus) as Record<FinalStatus, number>,
      judgeCount: this.judgeCount,
      judgeSeconds: this.judgeSeconds,
      inFlight: this.inFlight,
      failedAttempts: this.failed,
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
    ];
    return `${lines.join("\n")}\n`;
  }
}
