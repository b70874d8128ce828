import type { NextFunction, Request, RequestHandler, Response } from "express";
import { AppError } from "@sonocode/errors";

/**
 * Mounted with route(...).all() after a path's real verbs: a known path with another
 * method gets a 405 envelope with Allow, instead of Express's bare OPTIONS reply or a 404.
 */
export function methodNotAllowed(allow: string[]): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction) => {
    res.setHeader("allow", allow.join(", "));
    next(new AppError("METHOD_NOT_ALLOWED", `method not allowed; allowed: ${allow.join(", ")}`));
  };
}
