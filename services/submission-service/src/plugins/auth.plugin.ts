import { authenticate } from "@sonocode/auth";
import type { AuthClaims } from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import type { FastifyInstance, FastifyRequest } from "fastify";
import fp from "fastify-plugin";

declare module "fastify" {
  interface FastifyRequest {
    /** Verified token claims; set by the `authenticate` preHandler, null before it runs. */
    auth: AuthClaims | null;
  }
  interface FastifyInstance {
    /** preHandler: 401 unless the request carries a valid bearer token (user or admin). */
    authenticate: (request: FastifyRequest) => Promise<void>;
  }
}

export interface AuthPluginOptions {
  jwtSecret: string;
}

/** The verified caller of a route guarded by `authenticate`. */
export function caller(request: FastifyRequest): AuthClaims {
  if (!request.auth) throw AppError.unauthorized();
  return request.auth;
}

/**
 * Identity comes from the token only, never from a body or query field. Routes
 * run `authenticate` as an onRequest hook: it needs only the headers, so an
 * anonymous upload is refused before its body is read.
 */
export const authPlugin = fp<AuthPluginOptions>(
  async (app: FastifyInstance, options) => {
    app.decorateRequest("auth", null);
    app.decorate("authenticate", async (request: FastifyRequest) => {
      const claims = await authenticate(request.headers.authorization, options.jwtSecret);
      request.auth = claims;
      // Never the token itself: only who is calling.
      request.log = request.log.child({ userId: claims.sub, role: claims.role });
    });
  },
  { name: "auth", fastify: "5.x" },
);
