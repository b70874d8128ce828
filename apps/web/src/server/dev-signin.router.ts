import express from "express";
import { z } from "zod";
import { signToken } from "@sonocode/auth";
import { roleSchema } from "@sonocode/contracts";
import { AppError, ok, validationError } from "@sonocode/errors";

/** Where the app posts "sign in as"; mounted only outside production (see createWebServer). */
export const DEV_SIGNIN_PATH = "/api/dev/token";

const signInBodySchema = z
  .object({
    name: z.string().trim().regex(/^[A-Za-z0-9_.-]{1,64}$/, "1-64 letters, digits, '.', '_' or '-'"),
    role: roleSchema.default("user"),
  })
  .strict();

/** Peers on this machine: 127.0.0.0/8 and ::1, IPv4-mapped or not. */
const LOOPBACK_PEER = /^(?:127\.|::ffff:127\.|::1$)/;

/** This machine's names in a Host header or an Origin: localhost, 127.x.y.z, [::1], any port. */
const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i;

function loopbackOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    return (url.protocol === "http:" || url.protocol === "https:") && LOOPBACK_HOST.test(url.host);
  } catch {
    return false;
  }
}

/**
 * A loopback peer is not enough: a page of attacker.example whose name is re-bound to
 * 127.0.0.1 (DNS rebinding) makes the developer's own browser a loopback peer that can read
 * the answer as same-origin. Such a request names the attacker's host in Host and Origin,
 * so both must name this machine (Origin only when sent: curl and scripts send none).
 */
function addressedToThisMachine(host: string | undefined, origin: string | undefined): boolean {
  return LOOPBACK_HOST.test(host ?? "") && (origin === undefined || loopbackOrigin(origin));
}

/**
 * Development sign-in: anyone who can use this endpoint becomes whoever they ask to be,
 * admin included. That is the point in development and the reason it is never mounted in
 * production, where tokens come from the operator's identity provider. It answers only
 * peers on this machine: a development launcher started with HOST=0.0.0.0 (NODE_ENV is
 * development by default) must not hand admin tokens to its whole network.
 */
export function devSignInRouter(jwtSecret: string): express.Router {
  const router = express.Router();
  router.post(DEV_SIGNIN_PATH, express.json({ limit: "4kb" }), async (req, res) => {
    if (!LOOPBACK_PEER.test(req.socket.remoteAddress ?? "")) throw AppError.forbidden("the development sign-in answers only on this machine (loopback)");
    if (!addressedToThisMachine(req.headers.host, req.headers.origin)) {
      throw AppError.forbidden("the development sign-in answers only requests addressed to this machine (Host and Origin localhost, 127.x or [::1])");
    }
    const body = signInBodySchema.safeParse(req.body);
    if (!body.success) throw validationError(body.error, "sign-in");
    const token = await signToken({ sub: body.data.name, role: body.data.role }, jwtSecret, "12h");
    res.json(ok({ token }, "signed in (development only)"));
  });
  router.all(DEV_SIGNIN_PATH, () => {
    throw new AppError("METHOD_NOT_ALLOWED", "use POST");
  });
  return router;
}
