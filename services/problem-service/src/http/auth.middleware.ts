import type { NextFunction, Request, Response } from "express";
import type { AuthClaims, ServiceClaims } from "@sonocode/contracts";
import { authenticate, authenticateService, requireRole } from "@sonocode/auth";

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** Verified token claims; undefined for an anonymous request on an open route. */
      auth?: AuthClaims | undefined;
      /** Verified service-token claims on an internal route. */
      service?: ServiceClaims | undefined;
    }
  }
}

/**
 * GETs are open: no Authorization header means anonymous. A header that is present
 * but wrong is still a 401, so a caller that meant to be admin (the submission-service
 * loading hidden tests) fails loudly instead of silently getting the public view.
 */
export function optionalAuth(jwtSecret: string) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const header = req.get("authorization");
    req.auth = header === undefined ? undefined : await authenticate(header, jwtSecret);
    next();
  };
}

export function requireAdmin(jwtSecret: string) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const claims = await authenticate(req.get("authorization"), jwtSecret);
    requireRole(claims, "admin");
    req.auth = claims;
    next();
  };
}

/** Internal routes: a short-lived token with the `service` role, nothing else (an admin token is a 403). */
export function requireService(jwtSecret: string) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    req.service = await authenticateService(req.get("authorization"), jwtSecret);
    next();
  };
}
