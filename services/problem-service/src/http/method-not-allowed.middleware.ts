import type { NextFunction, Request, RequestHandler, Response } from "express";
import { AppError } from "@sonocode/errors";

/**
 * Mounted with route(...).all() after a path's real verbs: a known path with another
 * method gets a 405 envelope with Allow, instead of Express's bare OPTIONS reply or a 404.
 * OPTIONS itself is 204 with Allow (the path's methods and OPTIONS), as submission-service
 * and the web server answer it. No CORS headers: browsers reach the API through the web
 * server's one origin, so a cross-origin preflight is refused by the browser, as intended.
 */
export function methodNotAllowed(allow: string[]): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    if (req.method === "OPTIONS") {
      res.setHeader("allow", [...allow, "OPTIONS"].join(", "));
      res.status(204).end();
      return;
    }
    res.setHeader("allow", allow.join(", "));
    next(new AppError("METHOD_NOT_ALLOWED", `method not allowed; allowed: ${allow.join(", ")}`));
  };
}
