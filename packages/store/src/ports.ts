import type {
  Difficulty,
  NewSubmission,
  PaginationQuery,
  Problem,
  ProblemInput,
  ProblemPatch,
  Submission,
  SubmissionListQuery,
  VerdictFields,
} from "@sonocode/contracts";

export interface Page<T> {
  items: T[];
  total: number;
}

/** Problems, with their test cases and stubs embedded (one document per problem, as in the original). */
export interface ProblemRepository {
  create(input: ProblemInput): Promise<Problem>;
  findById(id: string): Promise<Problem | null>;
  list(query: PaginationQuery & { difficulty?: Difficulty | undefined }): Promise<Page<Problem>>;
  /** PUT: replaces every field but _id and createdAt. null when absent. */
  replace(id: string, input: ProblemInput): Promise<Problem | null>;
  /** PATCH: changes only the given fields. null when absent. */
  update(id: string, patch: ProblemPatch): Promise<Problem | null>;
  delete(id: string): Promise<boolean>;
}

export interface SubmissionRepository {
  /** Inserts a Pending submission with a fresh ObjectId. */
  create(input: NewSubmission): Promise<Submission>;
  findById(id: string): Promise<Submission | null>;
  /** The caller's own submissions, newest first. */
  listByUser(userId: string, query: SubmissionListQuery): Promise<Page<Submission>>;
  /**
   * Pending/Running -> Running with the progress counters. Returns the updated
   * submission, or null when it is absent, already final, or already further
   * along (passed greater than this event's): progress never goes backwards.
   */
  markRunning(id: string, progress: { passed: number; total: number }): Promise<Submission | null>;
  /**
   * Writes the final verdict once. `applied` is false when the submission was
   * already final (a replayed result): the stored state is returned unchanged.
   * null when the submission does not exist.
   */
  finalize(id: string, verdict: VerdictFields): Promise<{ submission: Submission; applied: boolean } | null>;
  /** Removes a submission: used to undo a Pending insert whose enqueue failed. */
  delete(id: string): Promise<boolean>;
}

export type StoreKind = "pglite" | "postgres" | "mongodb";

export interface Store {
  readonly kind: StoreKind;
  readonly problems: ProblemRepository;
  readonly submissions: SubmissionRepository;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type StoreConfig =
  | { kind: "pglite"; dataDir: string | null /* null = in-memory */ }
  | { kind: "postgres"; url: string }
  | { kind: "mongodb"; url: string; dbName: string };
