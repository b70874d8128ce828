import {
  groupIssues,
  objectIdSchema,
  pageInfo,
  type AuthClaims,
  type Difficulty,
  type PageInfo,
  type PaginationQuery,
  type Problem,
  type ProblemInput,
  type ProblemPatch,
  type PublicProblem,
} from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import type { Page, ProblemRepository } from "@sonocode/store";

/** What a caller may see: admins get the stored document, everyone else the public view (toPublicProblem's, built by the store). */
export type ProblemView = Problem | PublicProblem;

export function canSeeHidden(viewer: AuthClaims | undefined): boolean {
  return viewer?.role === "admin";
}

/** Validates a path id before it reaches the store, so a bad id is a 400, never a driver error. */
export function parseProblemId(raw: unknown): string {
  const parsed = objectIdSchema.safeParse(raw);
  if (!parsed.success) throw new AppError("INVALID_ID", "problem id must be a 24-character hex ObjectId");
  return parsed.data;
}

function notFound(id: string): AppError {
  return AppError.notFound("PROBLEM_NOT_FOUND", `problem ${id} not found`);
}

/** Rules across fields (a test's group must be declared, ...): a 400 like any field's. */
export function assertConsistent(problem: Pick<ProblemInput, "testCases" | "groups">, where = "problem"): void {
  const issues = groupIssues(problem);
  if (issues.length > 0) {
    throw new AppError("VALIDATION_FAILED", `invalid ${where}`, { details: issues.map((issue) => ({ path: issue.path.join("."), message: issue.message })) });
  }
}

/** The problem use cases, independent of HTTP: routes parse, this decides. */
export class ProblemsService {
  constructor(private readonly problems: ProblemRepository) {}

  create(input: ProblemInput): Promise<Problem> {
    assertConsistent(input);
    return this.problems.create(input);
  }

  /**
   * Admins read the stored document; everyone else the public view, which the store builds
   * itself (hidden tests never loaded: a problem of megabytes of hidden tests once made every
   * anonymous read cost as much as the whole document).
   */
  async get(id: string, viewer: AuthClaims | undefined): Promise<ProblemView> {
    const problem = canSeeHidden(viewer) ? await this.problems.findById(id) : await this.problems.findPublicById(id);
    if (!problem) throw notFound(id);
    return problem;
  }

  async list(
    query: PaginationQuery & { difficulty?: Difficulty | undefined },
    viewer: AuthClaims | undefined,
  ): Promise<{ problems: ProblemView[]; pagination: PageInfo }> {
    const page: Page<ProblemView> = canSeeHidden(viewer) ? await this.problems.list(query) : await this.problems.listPublic(query);
    return { problems: page.items, pagination: pageInfo(query, page.total) };
  }

  async replace(id: string, input: ProblemInput): Promise<Problem> {
    assertConsistent(input);
    const problem = await this.problems.replace(id, input);
    if (!problem) throw notFound(id);
    return problem;
  }

  async update(id: string, patch: ProblemPatch): Promise<Problem> {
    // Groups and tests can change in separate PATCHes: the rules hold for the merged document.
    if (patch.testCases !== undefined || patch.groups !== undefined) {
      const current = await this.problems.findById(id);
      if (!current) throw notFound(id);
      assertConsistent({ testCases: patch.testCases ?? current.testCases, groups: patch.groups ?? current.groups }, "problem patch");
    }
    const problem = await this.problems.update(id, patch);
    if (!problem) throw notFound(id);
    return problem;
  }

  async delete(id: string): Promise<{ _id: string }> {
    if (!(await this.problems.delete(id))) throw notFound(id);
    return { _id: id };
  }
}
