// validated() for rejudge requests: the same rules as for the other repositories (validated.ts):
// malformed ids are "not found" without a round trip, inputs are checked first, every
// document read is re-parsed with the contracts' schema.
import { isoDateSchema, rejudgeSchema, type Rejudge } from "@sonocode/contracts";
import { z } from "zod";
import { checkWrite } from "./documents.js";
import { normalizeId } from "./object-id.js";
import type { RejudgeRequestRepository, StoreAdapter } from "./ports.js";

const requestedSchema = z.object({ rejudge: z.unknown(), created: z.boolean() });
const stepSchema = z.object({ moved: z.number().int().min(0), done: z.boolean() }).nullable();
const requestInputSchema = z.object({ at: isoDateSchema, requestedBy: z.string().min(1).max(200).nullable() });

const toRejudge = (raw: unknown): Rejudge => rejudgeSchema.parse(raw);
const markingRefsSchema = z.array(rejudgeSchema.pick({ _id: true, problemId: true, queued: true, marked: true }));

export function validatedRejudgeRequests(inner: StoreAdapter["rejudgeRequests"]): RejudgeRequestRepository {
  return {
    request: async (problemId, input) => {
      const key = normalizeId(problemId);
      // Callers check the problem exists first; a malformed id cannot name one.
      if (key === null) throw new TypeError(`rejudge request for a malformed problem id`);
      const answer = requestedSchema.parse(await inner.request(key, requestInputSchema.parse(input)));
      return { rejudge: toRejudge(answer.rejudge), created: answer.created };
    },
    markNext: async (rejudgeId, limit, at) => {
      const key = normalizeId(rejudgeId);
      if (key === null) return null;
      return stepSchema.parse(await inner.markNext(key, checkWrite.pageLimit(limit), isoDateSchema.parse(at)));
    },
    findById: async (rejudgeId) => {
      const key = normalizeId(rejudgeId);
      if (key === null) return null;
      const raw = await inner.findById(key);
      return raw === null ? null : toRejudge(raw);
    },
    listMarking: async (limit) => markingRefsSchema.parse(await inner.listMarking(checkWrite.pageLimit(limit))),
  };
}
