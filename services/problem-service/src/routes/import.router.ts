import express, { type RequestHandler } from "express";
import { difficultySchema, problemInputSchema } from "@sonocode/contracts";
import { AppError, ok, validationError } from "@sonocode/errors";
import { z } from "zod";
import type { ProblemsService } from "../domain/problems.service.js";
import { assertStorableText } from "../domain/storable-text.validator.js";
import { requireAdmin } from "../http/auth.middleware.js";
import { methodNotAllowed } from "../http/method-not-allowed.middleware.js";
import { problemFromKattisPackage } from "../import/kattis-package.js";
import { readZip, type ZipLimits } from "../import/zip-reader.js";

export const ZIP_MEDIA_TYPES = ["application/zip", "application/x-zip-compressed"];

/** Caps of an uploaded package: a problem is one stored document, so these bound it too. */
export const PACKAGE_LIMITS = {
  /** The zip as uploaded. */
  maxZipBytes: 16 * 1024 * 1024,
  maxEntries: 2_000,
  /** One inflated file (a test's input or answer is at most this as stored). */
  maxEntryBytes: 8 * 1024 * 1024,
  maxTotalBytes: 32 * 1024 * 1024,
} as const satisfies ZipLimits & { maxZipBytes: number };

const importQuerySchema = z.object({ difficulty: difficultySchema.default("medium") });

export interface ImportRouterOptions {
  service: ProblemsService;
  jwtSecret: string;
  limits?: Partial<typeof PACKAGE_LIMITS>;
}

/**
 * POST /api/v1/problems/import (admin): a Kattis problem package as the raw zip body
 * (Content-Type: application/zip) -> 201 with the stored problem. Everything is read and
 * validated in memory first and stored in one write: a bad package leaves nothing behind.
 */
export function importRouter(options: ImportRouterOptions): express.Router {
  const limits = { ...PACKAGE_LIMITS, ...options.limits };
  const router = express.Router();
  const requireZip: RequestHandler = (req, _res, next) => {
    if (!req.is(ZIP_MEDIA_TYPES)) {
      next(new AppError("UNSUPPORTED_MEDIA_TYPE", "a problem package is a zip (Content-Type: application/zip)"));
      return;
    }
    next();
  };

  router
    .route("/")
    // Auth runs before the body is read: an anonymous 16 MB upload is refused unread.
    .post(requireAdmin(options.jwtSecret), requireZip, express.raw({ type: ZIP_MEDIA_TYPES, limit: limits.maxZipBytes }), async (req, res) => {
      const query = importQuerySchema.safeParse(req.query);
      if (!query.success) throw validationError(query.error, "query");
      if (!Buffer.isBuffer(req.body) || req.body.length === 0) throw new AppError("VALIDATION_FAILED", "invalid problem package: the body is empty");
      const files = await readZip(req.body, limits);
      const draft = problemFromKattisPackage(files, { difficulty: query.data.difficulty });
      const parsed = problemInputSchema.safeParse(draft);
      if (!parsed.success) throw validationError(parsed.error, "problem package");
      assertStorableText(parsed.data, "problem package");
      res.status(201).json(ok(await options.service.create(parsed.data), "problem imported"));
    })
    .all(methodNotAllowed(["POST"]));

  return router;
}
