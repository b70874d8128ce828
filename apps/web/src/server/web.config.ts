import { z } from "zod";
import { baseEnvSchema, jwtSecretSchema, portSchema } from "@sonocode/config";

/** Where the web server sends each API family. Paths are kept as they are (no prefix rewriting). */
export interface UpstreamUrls {
  problem: string;
  submission: string;
  socket: string;
}

export interface WebServerConfig {
  upstreams: UpstreamUrls;
  /** The built app (index.html + assets/): see ensureClientBuilt(). */
  distDir: string;
  /**
   * The dev-only "sign in as" endpoint signs with this secret. Absent (always in production),
   * the endpoint does not exist and the app asks for a token instead.
   */
  devSignIn?: { jwtSecret: string } | undefined;
}

/**
 * Distributed mode (`npm run start -w @sonocode/web`): every upstream is named explicitly.
 * JWT_SECRET is optional here: only the dev sign-in uses it, and it is ignored in production.
 */
export const webEnvSchema = baseEnvSchema.pick({ NODE_ENV: true, LOG_LEVEL: true, SHUTDOWN_TIMEOUT_MS: true }).extend({
  HOST: z.string().default("127.0.0.1"),
  WEB_PORT: portSchema(4000),
  PROBLEM_SERVICE_URL: z.url().default("http://127.0.0.1:4001"),
  SUBMISSION_SERVICE_URL: z.url().default("http://127.0.0.1:4002"),
  SOCKET_SERVICE_URL: z.url().default("http://127.0.0.1:4003"),
  /** Unset: apps/web/dist, built on start when missing or stale. */
  WEB_DIST_DIR: z.string().trim().min(1).optional(),
  JWT_SECRET: z
    .string()
    .optional()
    .transform((value) => (value ? value : undefined))
    .pipe(jwtSecretSchema.optional()),
});
export type WebEnv = z.output<typeof webEnvSchema>;

/** The one variable embedded mode reads for the web server (the launcher knows the upstreams itself). */
export const webPortEnvSchema = z.object({ WEB_PORT: portSchema(4000) });

/** The dev sign-in exists only outside production, and only with a secret to sign with. */
export function devSignInFor(nodeEnv: WebEnv["NODE_ENV"], jwtSecret: string | undefined): WebServerConfig["devSignIn"] {
  return nodeEnv !== "production" && jwtSecret ? { jwtSecret } : undefined;
}
