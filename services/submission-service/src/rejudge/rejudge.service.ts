import type { RejudgeResult } from "@sonocode/contracts";
import type { Store } from "@sonocode/store";
import type { DomainLogger } from "../domain/submissions.service.js";

export interface RejudgeServiceDeps {
  store: Store;
  /** Told after each page, so judging starts while later pages are still being marked. */
  feeder?: { wake(): void } | undefined;
  /** Submissions moved back to Pending per statement (default 500). */
  pageSize?: number;
}

const DEFAULT_PAGE_SIZE = 500;

/**
 * The write side of a rejudge: every submission of the problem goes back to Pending with a new
 * generation, a page (one short UPDATE) at a time, so no statement holds many row locks and a
 * finalize racing it waits for one page at most. Nothing is queued here: the rejudge feeder
 * queues them a window at a time, behind fresh submissions. Problem statistics are left alone:
 * until its new verdict a submission still counts with its previous status (kept as previousStatus).
 */
export class RejudgeService {
  constructor(private readonly deps: RejudgeServiceDeps) {}

  async rejudgeProblem(problemId: string, log: DomainLogger): Promise<RejudgeResult> {
    const pageSize = this.deps.pageSize ?? DEFAULT_PAGE_SIZE;
    const at = new Date().toISOString();
    let queued = 0;
    let after: string | undefined;
    for (;;) {
      const ids = await this.deps.store.rejudges.markPage(problemId, { after, limit: pageSize, at });
      queued += ids.length;
      if (ids.length > 0) this.deps.feeder?.wake();
      if (ids.length < pageSize) break;
      after = ids[ids.length - 1];
    }
    log.info({ problemId, queued }, "rejudge: submissions moved back to Pending");
    return { queued };
  }
}
