import {
  checkerSchema,
  interactorSchema,
  publicChecker,
  publicInteractor,
  publicProblemSchema,
  type Checker,
  type PublicProblem,
} from "@sonocode/contracts";

/**
 * The public view (issue: anonymous reads loaded every hidden test) is built by each database;
 * what it hands over is parsed here, like every other read, and finished with the contracts'
 * own functions on the small parts, so it equals toPublicProblem(findById) field for field.
 */

/** The checker fields publicChecker keeps: the only ones an adapter selects (never source, files, language). */
export const PUBLIC_CHECKER_FIELDS = ["type", "epsilon", "caseSensitive", "protocol"] as const satisfies readonly (keyof Checker)[];

/** Optional fields of the public view an adapter may hand over as null (absent). */
const OPTIONAL_PUBLIC_KEYS = ["timeLimitMs", "memoryLimitMb", "checker", "runAllTests", "languageLimits", "groups", "interactor"] as const;

const publicCheckerPartSchema = checkerSchema.pick({ type: true, epsilon: true, caseSensitive: true, protocol: true });
const interactorProtocolSchema = interactorSchema.pick({ protocol: true });

export function toPublicProblemView(raw: unknown): PublicProblem {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new TypeError("the store returned a public problem that is not a document");
  const copy: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const key of OPTIONAL_PUBLIC_KEYS) if (copy[key] === null || copy[key] === undefined) delete copy[key];
  if (copy["checker"] !== undefined) copy["checker"] = publicChecker(publicCheckerPartSchema.parse(copy["checker"]));
  if (copy["interactor"] !== undefined) copy["interactor"] = publicInteractor(interactorProtocolSchema.parse(copy["interactor"]));
  const { checker, interactor, testCases, totalTestCases, ...rest } = publicProblemSchema.parse(copy);
  // toPublicProblem's key order, so the JSON a client gets is byte for byte what it was.
  return {
    ...rest,
    ...(checker === undefined ? {} : { checker }),
    ...(interactor === undefined ? {} : { interactor }),
    testCases,
    totalTestCases,
  };
}
