import { SignJWT, jwtVerify } from "jose";
import { authClaimsSchema, type AuthClaims, type Role } from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";

const ALGORITHM = "HS256";

function key(secret: string): Uint8Array {
  return new TextEncoder().encode(secret);
}

/** Mints an HS256 token with claims sub and role. */
export async function signToken(claims: AuthClaims, secret: string, expiresIn: string | number = "12h"): Promise<string> {
  return new SignJWT({ role: claims.role })
    .setProtectedHeader({ alg: ALGORITHM, typ: "JWT" })
    .setSubject(claims.sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(key(secret));
}

/** Verifies signature, algorithm, expiry and claim shape; any failure is a 401. */
export async function verifyToken(token: string, secret: string): Promise<AuthClaims> {
  try {
    const { payload } = await jwtVerify(token, key(secret), { algorithms: [ALGORITHM] });
    const claims = authClaimsSchema.safeParse(payload);
    if (!claims.success) throw new AppError("UNAUTHORIZED", "token claims are invalid");
    return claims.data;
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw new AppError("UNAUTHORIZED", "invalid or expired token", { cause: error });
  }
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

export function requireRole(claims: AuthClaims, role: Role): void {
  if (role === "admin" && claims.role !== "admin") throw AppError.forbidden("admin role required");
}
