import { z } from "zod";
import { isoDateSchema, objectIdSchema } from "./common.js";
import { languageSchema } from "./languages.js";
import { checkerSchema } from "./checker.js";
import { testGroupsSchema } from "./groups.js";
import { interactorSchema } from "./interactor.js";
import { languageLimitsSchema } from "./problem.js";
import { testSetHashSchema, testSetRefSchema } from "./test-set-ref.js";

export const testSetTestSchema = z.object({ input: z.string(), output: z.string(), hidden: z.boolean(), group: z.string().optional() });
export type TestSetTest = z.infer<typeof testSetTestSchema>;

/**
 * Body (data) of GET /internal/v1/problems/:id/test-set/:hash: what is judged against, whose
 * hash is `hash` (testSetContentHash): the tests and, when not the defaults, the checker (a
 * custom checker's code travels here, never in a job) and the groups.
 */
export const testSetSchema = z.object({
  problemId: objectIdSchema,
  hash: testSetHashSchema,
  tests: z.array(testSetTestSchema),
  checker: checkerSchema.optional(),
  groups: testGroupsSchema.optional(),
  /** An interactive problem's interactor, its code included (part of the hash). */
  interactor: interactorSchema.optional(),
});
export type TestSet = z.infer<typeof testSetSchema>;

/**
 * Body (data) of GET /internal/v1/problems/:id: what submission-service needs to
 * build a job (stubs, limits, checker, test-set reference), without the tests. A custom
 * checker appears without its code (type, protocol, language): that comes with the test set.
 */
export const judgingProblemSchema = z.object({
  _id: objectIdSchema,
  codeStubs: z.array(
    z.object({ language: languageSchema, startSnippet: z.string(), userSnippet: z.string(), endSnippet: z.string() }),
  ),
  timeLimitMs: z.number().int().optional(),
  memoryLimitMb: z.number().int().optional(),
  checker: checkerSchema.optional(),
  runAllTests: z.boolean().optional(),
  languageLimits: languageLimitsSchema.optional(),
  testSet: testSetRefSchema,
  updatedAt: isoDateSchema,
});
export type JudgingProblem = z.infer<typeof judgingProblemSchema>;

/** Error code of a test-set request whose hash is no longer the problem's (details.currentHash names the current one). */
export const TEST_SET_CHANGED = "TEST_SET_CHANGED" as const;
