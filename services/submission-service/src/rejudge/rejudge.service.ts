import type { Rejudge, RejudgeResult } from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import type { Store } from "@sonocode/store";
import type { DomainLogger } from "../domain/submissions.service.js";

export interface RejudgeServiceDeps {
  store: Store;
  /** Woken once a rejudge is recorded, so its marking starts now rather than at the next tick. */
  feeder?: { wake(): void } | undefined;
}

/**
 * The request side of a rejudge: it records the rejudge (one short INSERT, whatever the
 * problem's size) and answers; the rejudge feeder marks the submissions in the background, a
 * page per step, from the record's position in the database (createRejudgeMarker). While one
 * rejudge of a problem is still marking, asking again returns that one (created: false), so a
 * retried request never rejudges twice. Nothing is queued here: the feeder queues a window at a
 * time, behind fresh submissions, and problem statistics move only when new verdicts come.
 */
export class RejudgeService {
  constructor(private readonly deps: RejudgeServiceDeps) {}

  async request(problemId: string, requestedBy: string | null, log: DomainLogger): Promise<RejudgeResult> {
    const { rejudge, created } = await this.deps.store.rejudgeRequests.request(problemId, { at: new Date().toISOString(), requestedBy });
    if (created) {
      log.info({ problemId, rejudgeId: rejudge._id, queued: rejudge.queued, requestedBy }, "rejudge recorded; marking in the background");
      this.deps.feeder?.wake();
    } else log.info({ problemId, rejudgeId: rejudge._id, marked: rejudge.marked, queued: rejudge.queued }, "rejudge already marking: returned as it stands");
    return { ...rejudge, created };
  }

  async find(rejudgeId: string): Promise<Rejudge> {
    const rejudge = await this.deps.store.rejudgeRequests.findById(rejudgeId);
    if (!rejudge) throw AppError.notFound("NOT_FOUND", `rejudge ${rejudgeId} not found`);
    return rejudge;
  }
}
