import { createSecretKey, type KeyObject } from "node:crypto";
import { SignJWT, jwtVerify, type JWTPayload } from "jose";
import {
  SERVICE_ROLE,
  authClaimsSchema,
  serviceClaimsSchema,
  type AuthClaims,
  type Role,
  type ServiceClaims,
} from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";

const ALGORITHM = "HS256";

/** The shortest secret any process accepts (config schemas and the embedded secret file use it too). */
export const MIN_SECRET_LENGTH = 32;

/** Service tokens are minted per call site and renewed often; one that lives longer is refused. */
export const SERVICE_TOKEN_TTL_SECONDS = 60;
export const MAX_SERVICE_TOKEN_TTL_SECONDS = 5 * 60;

/**
 * Per secret (a process has one, tests a few): its HMAC key object and the payloads of the
 * tokens that passed verification. jose's HS256 check costs ~0.4 ms on our machines, a large
 * share of a whole submission POST, and a client sends the same token with every request.
 * Only verified tokens are kept, each until its exp (checked again on every hit), at most
 * VERIFIED_PER_SECRET of them, the oldest out first; a token that fails is never kept.
 */
interface SecretState {
  key: KeyObject;
  verified: Map<string, JWTPayload>;
}
const VERIFIED_PER_SECRET = 10_000;
const MAX_SECRETS = 8;
const secrets = new Map<string, SecretState>();

function stateOf(secret: string): SecretState {
  let state = secrets.get(secret);
  if (!state) {
    if (secrets.size >= MAX_SECRETS) secrets.delete(secrets.keys().next().value!);
    state = { key: createSecretKey(Buffer.from(secret, "utf8")), verified: new Map() };
    secrets.set(secret, state);
  }
  return state;
}

function key(secret: string): KeyObject {
  return stateOf(secret).key;
}

/** jose's own expiry rule: expired once exp <= now, in whole seconds. */
function unexpired(payload: JWTPayload): boolean {
  return typeof payload.exp === "number" && payload.exp > Math.floor(Date.now() / 1000);
}

/** Mints an HS256 token for a person (role user or admin); it always carries exp. */
export async function signToken(claims: Pick<AuthClaims, "sub" | "role">, secret: string, expiresIn: string | number = "12h"): Promise<string> {
  return new SignJWT({ role: claims.role })
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key(secret));
}

/** Mints a short-lived token with the narrow `service` role, for one service calling another's internal endpoints. */
export async function signServiceToken(service: string, secret: string, ttlSeconds: number = SERVICE_TOKEN_TTL_SECONDS): Promise<string> {
  return new SignJWT({ role: SERVICE_ROLE })
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
    .setSubject(service)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(key(secret));
}

/** Signature, algorithm, expiry (and its presence); any failure is a 401. */
async function verifiedPayload(token: string, secret: string): Promise<JWTPayload> {
  const state = stateOf(secret);
  const known = state.verified.get(token);
  if (known) {
    if (unexpired(known)) return known;
    state.verified.delete(token);
  }
  try {
    const { payload } = await jwtVerify(token, state.key, { algorithms: [ALGORITHM], requiredClaims: ["exp"] });
    if (state.verified.size >= VERIFIED_PER_SECRET) state.verified.delete(state.verified.keys().next().value!);
    state.verified.set(token, Object.freeze(payload));
    return payload;
  } catch (error) {
    throw new AppError("UNAUTHORIZED", "invalid or expired token", { cause: error });
  }
}

/**
 * The claims parsed out of a remembered payload (keyed by that frozen object, so they go
 * when it is dropped): a client sends the same token with every request, and the parse
 * cost about as much as the cache lookup it follows.
 */
const personClaims = new WeakMap<JWTPayload, AuthClaims>();

/**
 * Verifies a person's token: signature, algorithm, a present and future exp, and
 * the claim shape. A valid service token is refused with 403: it is accepted only
 * by internal endpoints (verifyServiceToken), never where a user or admin acts.
 * The claims returned are frozen (one object per remembered token).
 */
export async function verifyToken(token: string, secret: string): Promise<AuthClaims> {
  const payload = await verifiedPayload(token, secret);
  const known = personClaims.get(payload);
  if (known) return known;
  if (payload["role"] === SERVICE_ROLE) throw AppError.forbidden("service tokens are accepted only by internal endpoints");
  const parsed = authClaimsSchema.safeParse(payload);
  if (!parsed.success) throw new AppError("UNAUTHORIZED", "token claims are invalid");
  const claims = Object.freeze(parsed.data);
  personClaims.set(payload, claims);
  return claims;
}

/**
 * Verifies a service token: role `service`, iat and exp present, and a lifetime
 * of at most MAX_SERVICE_TOKEN_TTL_SECONDS, so a leaked one is useless within
 * minutes. A user or admin token is refused with 403.
 */
export async function verifyServiceToken(token: string, secret: string): Promise<ServiceClaims> {
  const payload = await verifiedPayload(token, secret);
  if (payload["role"] !== SERVICE_ROLE) throw AppError.forbidden("this endpoint accepts only service tokens");
  const claims = serviceClaimsSchema.safeParse(payload);
  if (!claims.success) throw new AppError("UNAUTHORIZED", "service token claims are invalid");
  if (claims.data.exp - claims.data.iat > MAX_SERVICE_TOKEN_TTL_SECONDS) {
    throw new AppError("UNAUTHORIZED", `service tokens may live at most ${MAX_SERVICE_TOKEN_TTL_SECONDS} s`);
  }
  return claims.data;
}

/** Reads "Authorization: Bearer <token>"; a missing or malformed header is a 401. */
export function bearerToken(header: string | undefined): string {
  const match = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header ?? "");
  if (!match?.[1]) throw AppError.unauthorized();
  return match[1];
}

export async function authenticate(header: string | undefined, secret: string): Promise<AuthClaims> {
  return verifyToken(bearerToken(header), secret);
}

export async function authenticateService(header: string | undefined, secret: string): Promise<ServiceClaims> {
  return verifyServiceToken(bearerToken(header), secret);
}

export function requireRole(claims: AuthClaims, role: Role): void {
  if (role === "admin" && claims.role !== "admin") throw AppError.forbidden("admin role required");
}

/**
 * A caller's cached service token, re-minted shortly before it expires; concurrent
 * requests share one signing. Each calling service holds one per process.
 */
export function serviceTokenSource(service: string, secret: string, ttlSeconds: number = SERVICE_TOKEN_TTL_SECONDS): () => Promise<string> {
  const refreshMarginMs = Math.min(15_000, (ttlSeconds * 1000) / 4);
  let cached: { token: string; refreshAt: number } | null = null;
  let minting: Promise<string> | null = null;
  return async () => {
    if (cached && Date.now() < cached.refreshAt) return cached.token;
    minting ??= signServiceToken(service, secret, ttlSeconds)
      .then((token) => {
        cached = { token, refreshAt: Date.now() + ttlSeconds * 1000 - refreshMarginMs };
        return token;
      })
      .finally(() => {
        minting = null;
      });
    return minting;
  };
}
