// validated() for runs: the same rules as for problems and submissions (validated.ts):
// malformed ids are "not found" without a round trip, writes are checked against the
// contracts (VALIDATION_FAILED), every document read is re-parsed.
import { isoDateSchema, languageSchema, objectIdSchema, runSchema, runVerdictSchema, type NewRun, type Run, type RunVerdict } from "@sonocode/contracts";
import { validationError } from "@sonocode/errors";
import { z } from "zod";
import { normalizeId } from "./object-id.js";
import type { RunCursor, RunRepository, StoreAdapter } from "./ports.js";

const newRunSchema = z.object({ userId: z.string().min(1), problemId: objectIdSchema, language: languageSchema, deadlineAt: isoDateSchema, expiresAt: isoDateSchema });
const finalizeSchema = z.object({ run: z.unknown(), applied: z.boolean() }).nullable();
const deletedSchema = z.boolean();
const countSchema = z.number().int().min(0);
const rowsSchema = z.array(z.unknown());
const limitSchema = z.number().int().min(1);
const cursorSchema = z.object({ deadlineAt: isoDateSchema, id: objectIdSchema });

function checked<S extends z.ZodType>(schema: S, value: unknown, what: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, what);
  return result.data;
}

const toRun = (raw: unknown): Run => runSchema.parse(raw);
const checkVerdict = (verdict: RunVerdict): RunVerdict => checked(runVerdictSchema, verdict, "run verdict");

export function validatedRuns(inner: StoreAdapter["runs"]): RunRepository {
  return {
    create: async (input: NewRun) => toRun(await inner.create(checked(newRunSchema, input, "run"))),
    findById: async (id) => {
      const key = normalizeId(id);
      if (key === null) return null;
      const raw = await inner.findById(key);
      return raw === null ? null : toRun(raw);
    },
    finalize: async (id, verdict) => {
      const key = normalizeId(id);
      if (key === null) return null;
      const result = finalizeSchema.parse(await inner.finalize(key, checkVerdict(verdict)));
      return result === null ? null : { run: toRun(result.run), applied: result.applied };
    },
    delete: async (id) => {
      const key = normalizeId(id);
      return key === null ? false : deletedSchema.parse(await inner.delete(key));
    },
    countActiveByUser: async (userId) => countSchema.parse(await inner.countActiveByUser(userId)),
    listOverdue: async (now, limit, after?: RunCursor) =>
      rowsSchema
        .parse(await inner.listOverdue(checked(isoDateSchema, now, "instant"), checked(limitSchema, limit, "limit"), after === undefined ? undefined : checked(cursorSchema, after, "cursor")))
        .map(toRun),
    deleteExpired: async (now) => countSchema.parse(await inner.deleteExpired(checked(isoDateSchema, now, "instant"))),
  };
}
