import express, { type RequestHandler } from "express";
import { difficultySchema, paginationQuerySchema, problemInputSchema, problemPatchSchema } from "@sonocode/contracts";
import { AppError, ok, validationError } from "@sonocode/errors";
import type { z } from "zod";
import { ProblemsService, parseProblemId } from "../domain/problems.service.js";
import { assertStorableText } from "../domain/storable-text.validator.js";
import { optionalAuth, requireAdmin } from "../http/auth.middleware.js";
import { methodNotAllowed } from "../http/method-not-allowed.middleware.js";

export const problemListQuerySchema = paginationQuerySchema.extend({
  difficulty: difficultySchema.optional(),
});

/** Media types accepted for a request body; anything else is a 415, never an empty body. */
export const JSON_MEDIA_TYPES = ["application/json", "application/*+json"];

export interface ProblemsRouterOptions {
  service: ProblemsService;
  jwtSecret: string;
  /** express.json limit: problems embed test data, so this is far above the usual 100kb. */
  jsonBodyLimit: string | number;
}

function parse<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw validationError(result.error, where);
  return result.data;
}

/** Bodies are also checked for text no store can keep (NUL, lone surrogates). */
function parseBody<S extends z.ZodType>(schema: S, value: unknown, where: string): z.output<S> {
  const data = parse(schema, value, where);
  assertStorableText(data, where);
  return data;
}

export function problemsRouter(options: ProblemsRouterOptions): express.Router {
  const { service, jwtSecret } = options;
  const router = express.Router();
  const anyone = optionalAuth(jwtSecret);
  const admin = requireAdmin(jwtSecret);

  const requireJson: RequestHandler = (req, _res, next) => {
    if (!req.is(JSON_MEDIA_TYPES)) {
      next(new AppError("UNSUPPORTED_MEDIA_TYPE", "request body must be JSON (Content-Type: application/json)"));
      return;
    }
    next();
  };
  // Auth runs before the body is read: an anonymous 10 MB upload is refused without parsing it.
  const jsonBody = [requireJson, express.json({ limit: options.jsonBodyLimit, type: JSON_MEDIA_TYPES, strict: true })];

  router
    .route("/")
    .get(anyone, async (req, res) => {
      const query = parse(problemListQuerySchema, req.query, "query");
      res.json(ok(await service.list(query, req.auth), "problems fetched"));
    })
    .post(admin, ...jsonBody, async (req, res) => {
      const input = parseBody(problemInputSchema, req.body, "problem");
      res.status(201).json(ok(await service.create(input), "problem created"));
    })
    .all(methodNotAllowed(["GET", "HEAD", "POST"]));

  router
    .route("/:id")
    .get(anyone, async (req, res) => {
      const id = parseProblemId(req.params.id);
      res.json(ok(await service.get(id, req.auth), "problem fetched"));
    })
    .put(admin, ...jsonBody, async (req, res) => {
      const id = parseProblemId(req.params.id);
      const input = parseBody(problemInputSchema, req.body, "problem");
      res.json(ok(await service.replace(id, input), "problem replaced"));
    })
    .patch(admin, ...jsonBody, async (req, res) => {
      const id = parseProblemId(req.params.id);
      const patch = parseBody(problemPatchSchema, req.body, "problem patch");
      res.json(ok(await service.update(id, patch), "problem updated"));
    })
    .delete(admin, async (req, res) => {
      const id = parseProblemId(req.params.id);
      res.json(ok(await service.delete(id), "problem deleted"));
    })
    .all(methodNotAllowed(["GET", "HEAD", "PUT", "PATCH", "DELETE"]));

  return router;
}
