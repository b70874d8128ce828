import { z } from "zod";
import {
  envelopeSchema,
  judgingProblemSchema,
  objectIdSchema,
  pageInfoSchema,
  problemInputSchema,
  problemPatchSchema,
  problemSchema,
  publicProblemSchema,
  rejudgeResultSchema,
  rejudgeSchema,
  testSetSchema,
} from "@sonocode/contracts";
import { problemListQuerySchema } from "../routes/problems.router.js";

type JsonObject = Record<string, unknown>;

/**
 * Every schema of the document comes from the zod contracts through z.toJSONSchema,
 * so the document cannot drift from what the routes validate. Components are
 * converted in "input" mode: the contracts' ids use a lowercasing transform, which
 * JSON Schema cannot express on the output side, while the input side (a 24-hex
 * pattern) describes the served value exactly.
 */
function components(): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  const problemOrPublic = z.union([problemSchema, publicProblemSchema]);
  registry.add(problemInputSchema, { id: "ProblemInput" });
  registry.add(problemPatchSchema, { id: "ProblemPatch" });
  registry.add(problemSchema, { id: "Problem" });
  registry.add(publicProblemSchema, { id: "PublicProblem" });
  registry.add(pageInfoSchema, { id: "PageInfo" });
  registry.add(envelopeSchema(z.object({})), { id: "ErrorEnvelope" });
  registry.add(envelopeSchema(problemOrPublic), { id: "ProblemEnvelope" });
  registry.add(envelopeSchema(problemSchema), { id: "AdminProblemEnvelope" });
  registry.add(envelopeSchema(z.object({ problems: z.array(problemOrPublic), pagination: pageInfoSchema })), {
    id: "ProblemListEnvelope",
  });
  registry.add(envelopeSchema(z.object({ _id: objectIdSchema })), { id: "DeletedEnvelope" });
  registry.add(envelopeSchema(judgingProblemSchema), { id: "JudgingProblemEnvelope" });
  registry.add(envelopeSchema(testSetSchema), { id: "TestSetEnvelope" });
  registry.add(envelopeSchema(rejudgeResultSchema), { id: "RejudgeEnvelope" });
  registry.add(envelopeSchema(rejudgeSchema), { id: "RejudgeProgressEnvelope" });
  registry.add(envelopeSchema(z.object({ pong: z.literal(true) })), { id: "PongEnvelope" });
  registry.add(
    envelopeSchema(z.object({ status: z.string(), checks: z.record(z.string(), z.string()) })),
    { id: "HealthEnvelope" },
  );
  const { schemas } = z.toJSONSchema(registry, {
    io: "input",
    uri: (id) => `#/components/schemas/${id}`,
  }) as { schemas: Record<string, JsonObject> };
  // OpenAPI 3.1 declares the dialect once, and a component is addressed by its path:
  // a per-component $schema is noise and an $id with a fragment is invalid in 2020-12.
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.$id;
  }
  return schemas;
}

function queryParameters(): JsonObject[] {
  const schema = z.toJSONSchema(problemListQuerySchema, { io: "input" }) as { properties?: Record<string, JsonObject> };
  return Object.entries(schema.properties ?? {}).map(([name, property]) => ({ name, in: "query", required: false, schema: property }));
}

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });
const json = (id: string, description: string) => ({ description, content: { "application/json": { schema: ref(id) } } });
const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((status) => [String(status), json("ErrorEnvelope", `error (status ${status})`)]));
const idParameter = {
  name: "id",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[0-9a-fA-F]{24}$" },
};
const hashParameter = {
  name: "hash",
  in: "path",
  required: true,
  schema: { type: "string", pattern: "^[0-9a-f]{64}$" },
};
const admin = [{ bearerAuth: [] }];
/** A token with role `service` (max 5 min lifetime); user and admin tokens get 403. */
const service = [{ serviceAuth: [] }];
const optionalAuth = [{}, { bearerAuth: [] }];
const body = (id: string) => ({ required: true, content: { "application/json": { schema: ref(id) } } });

export function buildOpenApiDocument(): JsonObject {
  return {
    openapi: "3.1.0",
    jsonSchemaDialect: "https://json-schema.org/draft/2020-12/schema",
    info: {
      title: "SonoCode problem-service",
      version: "1.0.0",
      description:
        "Problems with visible and hidden test cases. Anonymous callers and role `user` get the public view (no hidden tests, no editorial, no referenceSolution, a checker without its code); admins get the stored document.",
    },
    paths: {
      "/ping": { get: { operationId: "ping", responses: { "200": json("PongEnvelope", "alive") } } },
      "/health": {
        get: {
          operationId: "health",
          responses: { "200": json("HealthEnvelope", "every dependency answers"), "503": json("HealthEnvelope", "a dependency failed") },
        },
      },
      "/api/v1/problems": {
        get: {
          operationId: "listProblems",
          security: optionalAuth,
          parameters: queryParameters(),
          responses: { "200": json("ProblemListEnvelope", "a page of problems"), ...errors(400, 401) },
        },
        post: {
          operationId: "createProblem",
          security: admin,
          requestBody: body("ProblemInput"),
          responses: { "201": json("AdminProblemEnvelope", "created"), ...errors(400, 401, 403, 413, 415) },
        },
      },
      "/api/v1/problems/import": {
        post: {
          operationId: "importProblemPackage",
          description:
            "Admin: imports a Kattis problem package (legacy layout): problem.yaml (name, limits.memory, validation default|custom, validator_flags), " +
            "problem_statement/problem.en.md (or .tex, kept as text), data/sample/*.in|.ans (visible), data/secret/**/*.in|.ans (hidden; first-level " +
            "sub-directories become groups sharing 100 points), output_validators/<dir>/ (custom checker, kattis protocol), .timelimit (seconds, default 2). " +
            "A malformed package, missing data, a path leaving the package, too many or too large entries (declared or inflated) are a 400 naming the " +
            "problem, and nothing is stored. Interactive and multi-pass packages are refused (400).",
          security: admin,
          parameters: [{ name: "difficulty", in: "query", required: false, schema: { type: "string", enum: ["easy", "medium", "hard"], default: "medium" } }],
          requestBody: { required: true, content: { "application/zip": { schema: { type: "string", format: "binary", maxLength: 16 * 1024 * 1024 } } } },
          responses: { "201": json("AdminProblemEnvelope", "imported"), ...errors(400, 401, 403, 413, 415) },
        },
      },
      "/api/v1/problems/{id}": {
        parameters: [idParameter],
        get: {
          operationId: "getProblem",
          security: optionalAuth,
          responses: { "200": json("ProblemEnvelope", "the problem (admin: full document)"), ...errors(400, 401, 404) },
        },
        put: {
          operationId: "replaceProblem",
          security: admin,
          requestBody: body("ProblemInput"),
          responses: { "200": json("AdminProblemEnvelope", "replaced"), ...errors(400, 401, 403, 404, 413, 415) },
        },
        patch: {
          operationId: "updateProblem",
          security: admin,
          requestBody: body("ProblemPatch"),
          responses: { "200": json("AdminProblemEnvelope", "updated"), ...errors(400, 401, 403, 404, 413, 415) },
        },
        delete: {
          operationId: "deleteProblem",
          security: admin,
          responses: { "200": json("DeletedEnvelope", "deleted"), ...errors(400, 401, 403, 404) },
        },
      },
      "/api/v1/problems/{id}/rejudge": {
        parameters: [idParameter],
        post: {
          operationId: "rejudgeProblem",
          description:
            "Admin: judges every submission of the problem again, in the background (no body). The answer comes once the rejudge is recorded " +
            "(`_id`, `status` marking|marked, `queued`, `marked`, `pending`); its submissions are then moved back to Pending in pages by submission-service, " +
            "resuming after a restart. Asked again while it is still marking, the same rejudge is returned with `created: false`. Each goes back to Pending with `previousStatus` " +
            "(its last final status) and `rejudgedAt`, and a new `rejudgeGeneration`; its owner gets the new final event (`submissionPayloadResponse`, " +
            "dedupe by _id and rejudgeGeneration). Rejudges are queued a bounded window at a time, behind fresh submissions and runs. " +
            "503 DEPENDENCY_UNAVAILABLE (component submission-service) when submission-service cannot be reached.",
          security: admin,
          responses: { "202": json("RejudgeEnvelope", "accepted: `queued` submissions will be judged again"), ...errors(400, 401, 403, 404, 503) },
        },
      },
      "/api/v1/problems/{id}/rejudges/{rejudgeId}": {
        parameters: [idParameter, { name: "rejudgeId", in: "path", required: true, schema: { type: "string", pattern: "^[0-9a-fA-F]{24}$" } }],
        get: {
          operationId: "getRejudge",
          description: "Admin: a rejudge's progress: `marked` of `queued` moved back to Pending so far, `pending` of those still waiting for their new verdict.",
          security: admin,
          responses: { "200": json("RejudgeProgressEnvelope", "the rejudge"), ...errors(400, 401, 403, 404, 503) },
        },
      },
      "/internal/v1/problems/{id}": {
        parameters: [idParameter],
        get: {
          operationId: "getJudgingProblem",
          description: "Internal (service token only): stubs, limits, checker and the test-set reference { hash, count }, without the tests.",
          security: service,
          responses: { "200": json("JudgingProblemEnvelope", "the judging view"), ...errors(400, 401, 403, 404) },
        },
      },
      "/internal/v1/problems/{id}/test-set/{hash}": {
        parameters: [idParameter, hashParameter],
        get: {
          operationId: "getTestSet",
          description:
            "Internal (service token only): the tests whose content hash is `hash` (sha256 over the canonical encoding of @sonocode/contracts/test-set-hash). " +
            "Only the current version is kept: 409 CONFLICT with details { reason: TEST_SET_CHANGED, currentHash, count } when the problem was edited since.",
          security: service,
          responses: { "200": json("TestSetEnvelope", "the test set (immutable per hash)"), ...errors(400, 401, 403, 404, 409) },
        },
      },
    },
    components: {
      schemas: components(),
      securitySchemes: {
        bearerAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT" },
        serviceAuth: { type: "http", scheme: "bearer", bearerFormat: "JWT with role service", description: "Short-lived service token (submission-service, evaluators)." },
      },
    },
  };
}
