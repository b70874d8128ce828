import type {
  Difficulty,
  NewSubmission,
  PaginationQuery,
  Problem,
  ProblemInput,
  ProblemPatch,
  PublicProblem,
  Submission,
  SubmissionListQuery,
  VerdictFields,
} from "@sonocode/contracts";
import type { NewRun, Rejudge, Run, RunVerdict } from "@sonocode/contracts";
import type { AcceptedComparison, Language } from "@sonocode/contracts";

export interface Page<T> {
  items: T[];
  total: number;
}

export type ProblemListQuery = PaginationQuery & { difficulty?: Difficulty | undefined };

/** Problems, with their test cases and stubs embedded (one document per problem, as in the original). */
export interface ProblemRepository {
  create(input: ProblemInput): Promise<Problem>;
  findById(id: string): Promise<Problem | null>;
  list(query: ProblemListQuery): Promise<Page<Problem>>;
  /**
   * What a non-admin sees (toPublicProblem of findById), built by the database: hidden tests,
   * editorial, reference solution, test set and checker/interactor code never leave it, so a
   * problem with megabytes of hidden tests reads as cheaply as its visible part.
   */
  findPublicById(id: string): Promise<PublicProblem | null>;
  /** list, in the public view (toPublicProblem of each item), built by the database like findPublicById. */
  listPublic(query: ProblemListQuery): Promise<Page<PublicProblem>>;
  /** PUT: replaces every field but _id and createdAt. null when absent. */
  replace(id: string, input: ProblemInput): Promise<Problem | null>;
  /** PATCH: changes only the given fields. null when absent. */
  update(id: string, patch: ProblemPatch): Promise<Problem | null>;
  delete(id: string): Promise<boolean>;
}

/** What the reconciler needs to decide about a non-final submission, without its code. */
export interface ActiveSubmissionRef {
  _id: string;
  userId: string;
  problemId: string;
  status: "Pending" | "Running";
  createdAt: string;
  updatedAt: string;
}

export interface ActiveSubmissionQuery {
  /** Only submissions created strictly before this ISO instant (the grace period). */
  createdBefore: string;
  /** Keyset cursor: the last (createdAt, _id) of the previous page. */
  after?: { createdAt: string; id: string } | undefined;
  limit: number;
}

/** One POST waiting for admission: `capped` false for callers the cap does not apply to (admins). */
export interface AdmissionRequest {
  input: NewSubmission;
  capped: boolean;
}

/**
 * inFlight: the user's in-flight submissions before this one (its place in line): the
 * stored count plus the batch-mates admitted ahead of it.
 */
export type AdmissionOutcome = { admitted: true; submission: Submission; inFlight: number } | { admitted: false; inFlight: number };

/**
 * What markRunning returns: only what the progress notification needs (owner, counters, which
 * judging). Its one caller, the results consumer, runs it for every progress event; reading back
 * and re-parsing the whole row (code, results) cost more than the UPDATE itself. absent
 * rejudgeGeneration: never rejudged (0), as in Submission.
 */
export type SubmissionProgress = Pick<Submission, "_id" | "userId" | "passed" | "total" | "rejudgeGeneration"> & { status: "Running" };

export interface SubmissionRepository {
  /** Inserts a Pending submission with a fresh ObjectId. */
  create(input: NewSubmission): Promise<Submission>;
  findById(id: string): Promise<Submission | null>;
  /** The caller's own submissions, newest first. */
  listByUser(userId: string, query: SubmissionListQuery): Promise<Page<Submission>>;
  /**
   * Pending/Running -> Running with the progress counters. Returns the updated row's
   * progress view (SubmissionProgress), or null when it is absent, already final, or already
   * further along (passed greater than this event's): progress never goes backwards.
   */
  markRunning(id: string, progress: { passed: number; total: number }, generation?: number): Promise<SubmissionProgress | null>;
  /**
   * Writes the final verdict once. `applied` is false when the submission was
   * already final (a replayed result): the stored state is returned unchanged.
   * null when the submission does not exist. With `generation` (markRunning too) only that
   * rejudge generation's judging may write: a superseded one's late result is not applied.
   */
  finalize(id: string, verdict: VerdictFields, generation?: number): Promise<{ submission: Submission; applied: boolean } | null>;
  /** Removes a submission: used to undo a Pending insert whose enqueue failed. */
  delete(id: string): Promise<boolean>;
  /**
   * Pending/Running submissions, oldest first, in keyset pages: the reconciler's
   * scan. Served by the (status, created_at) recovery index, so it costs one
   * empty index probe when nothing is in flight.
   */
  listActive(query: ActiveSubmissionQuery): Promise<ActiveSubmissionRef[]>;
  /** How many of a user's submissions are Pending/Running (the per-user in-flight cap). */
  countActiveByUser(userId: string): Promise<number>;
  /**
   * Inserts every input as a Pending submission at once, all or nothing: when it throws,
   * none of them was written. Returned in input order. No in-flight cap (the POST path
   * uses admitMany).
   */
  createMany(inputs: NewSubmission[]): Promise<Submission[]>;
  /**
   * The POST path's admission (issue 9): the per-user in-flight cap and the insert of one
   * batch in one statement. Each request, in order, is admitted when it is not capped or
   * when its user's in-flight count (countActiveByUser) plus the requests of that user
   * admitted before it in this batch is below `maxInFlight`; the admitted are inserted
   * Pending, all of them or none (when it throws, nothing of the batch was written).
   * Outcomes in request order. Exact across processes sharing a PostgreSQL server: a
   * user's admissions are serialised (MongoDB: exact within a process only, see its adapter).
   */
  admitMany(requests: AdmissionRequest[], maxInFlight: number): Promise<AdmissionOutcome[]>;
  /**
   * Percentiles (issue 10): `of` is an accepted submission; among the other accepted
   * submissions of its problem and language, how many there are and how many took more
   * CPU time / more memory. One index range scan over that problem's and language's
   * accepted submissions (PostgreSQL: submissions_accepted_idx).
   */
  acceptedComparison(of: { problemId: string; language: Language; timeMs: number; memoryKb: number }): Promise<AcceptedComparison>;
}

/** A rejudge still to finish: what the rejudge feeder needs to keep its job queued. */
export interface RejudgingRef {
  _id: string;
  problemId: string;
  status: "Pending" | "Running";
  rejudgeGeneration: number;
  rejudgedAt: string;
}

/**
 * Rejudges (submission-service). A rejudged submission is Pending/Running with
 * rejudge_generation > 0 until its new verdict: the rejudge feeder owns it (the
 * reconciler and the per-user in-flight count leave it alone).
 */
export interface RejudgeRepository {
  /** Rejudges still to finish, oldest rejudge first (the feeder's window). */
  listRejudging(limit: number): Promise<RejudgingRef[]>;
}

/**
 * Rejudge requests (submission-service): the durable side of POST .../rejudge. A request is
 * recorded at once; the marking then walks the problem's submissions in id order, a page per
 * markNext, from a position kept in the record, so any replica can resume it after a restart.
 */
export interface RejudgeRequestRepository {
  /**
   * Records a rejudge of the problem covering its submissions as they are now (queued = their
   * count, the walk ends at the newest of them), or returns the one already marking this problem
   * (created: false): at most one rejudge marks a problem at a time.
   */
  request(problemId: string, input: { at: string; requestedBy: string | null }): Promise<{ rejudge: Rejudge; created: boolean }>;
  /**
   * Marks the next page (up to `limit` submissions) of a rejudge still marking; `moved` of them
   * went back to Pending (a page done twice, by two replicas or again after a crash, moves each
   * submission once), `done` when the walk is over. null when the rejudge is not marking (unknown, or done).
   */
  markNext(rejudgeId: string, limit: number, at: string): Promise<{ moved: number; done: boolean } | null>;
  findById(rejudgeId: string): Promise<Rejudge | null>;
  /** Rejudges still marking, oldest first: what the background marker resumes (without `pending`: a count it does not need every tick). */
  listMarking(limit: number): Promise<RejudgeMarkingRef[]>;
}

export type RejudgeMarkingRef = Pick<Rejudge, "_id" | "problemId" | "queued" | "marked">;

/**
 * Runs ("run code", submission-service): scratch results kept apart from submissions (never
 * in problem statistics). A run not final by its deadline is made IE by the sweep; a run is
 * deleted once its expiresAt has passed.
 */
export interface RunRepository {
  /** Inserts a Pending run with a fresh ObjectId. */
  create(input: NewRun): Promise<Run>;
  findById(id: string): Promise<Run | null>;
  /** Writes the final result once; `applied` false when the run was already final. null when absent. */
  finalize(id: string, verdict: RunVerdict): Promise<{ run: Run; applied: boolean } | null>;
  /** Undoes a Pending insert whose enqueue failed. */
  delete(id: string): Promise<boolean>;
  /** Pending/Running runs of a user (the in-flight cap). */
  countActiveByUser(userId: string): Promise<number>;
  /**
   * Pending/Running runs whose deadline is before `now`, by deadline then id, at most `limit`,
   * after `after` (the last run of the previous page). Read only: the sweep queues their IE as
   * results, which the results consumer writes (finalize), so a run is finished once whoever wins.
   */
  listOverdue(now: string, limit: number, after?: RunCursor): Promise<Run[]>;
  /** Deletes the runs whose expiresAt is before `now`; how many. */
  deleteExpired(now: string): Promise<number>;
}

/** Where a listOverdue page ends: its last run's deadline and id. */
export interface RunCursor {
  deadlineAt: string;
  id: string;
}

export type StoreKind = "pglite" | "postgres" | "mongodb";

export interface Store {
  readonly kind: StoreKind;
  readonly problems: ProblemRepository;
  readonly submissions: SubmissionRepository;
  readonly runs: RunRepository;
  readonly rejudges: RejudgeRepository;
  readonly rejudgeRequests: RejudgeRequestRepository;
  /** Throws when the database does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export type StoreConfig =
  | { kind: "pglite"; dataDir: string | null /* null = in-memory */ }
  | { kind: "postgres"; url: string }
  | { kind: "mongodb"; url: string; dbName: string };

/**
 * An adapter's side of a repository, before validated() wraps it: the same
 * methods, called only with canonical ids and inputs that already passed the
 * contracts' write schemas, and returning plain documents that are not trusted
 * until validated() parses them (hence `unknown`: nothing outside the decorator
 * can use an adapter's answer as a contract type by accident).
 */
export type Unverified<R> = {
  [K in keyof R]: R[K] extends (...args: infer A) => Promise<unknown> ? (...args: A) => Promise<unknown> : R[K];
};

/** What each database adapter builds; createStore() hands it out only through validated(). */
export interface StoreAdapter {
  readonly kind: StoreKind;
  readonly problems: Unverified<ProblemRepository>;
  readonly submissions: Unverified<SubmissionRepository>;
  readonly runs: Unverified<RunRepository>;
  readonly rejudges: Unverified<RejudgeRepository>;
  readonly rejudgeRequests: Unverified<RejudgeRequestRepository>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
