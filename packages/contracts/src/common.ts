import { z } from "zod";

/** 24-hex ObjectId-style id, as in the original MongoDB documents. */
export const objectIdSchema = z
  .string()
  .regex(/^[0-9a-f]{24}$/i, "must be a 24-character hex ObjectId")
  .transform((id) => id.toLowerCase());
export type ObjectId = z.infer<typeof objectIdSchema>;

export const isoDateSchema = z.iso.datetime();

export const paginationQuerySchema = z.object({
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});
export type PaginationQuery = z.infer<typeof paginationQuerySchema>;

export const pageInfoSchema = z.object({
  page: z.number().int(),
  limit: z.number().int(),
  total: z.number().int(),
  totalPages: z.number().int(),
});
export type PageInfo = z.infer<typeof pageInfoSchema>;

export function pageInfo(query: PaginationQuery, total: number): PageInfo {
  return { page: query.page, limit: query.limit, total, totalPages: Math.ceil(total / query.limit) };
}

/** The response envelope of every HTTP response (kept from the original system). */
export const envelopeSchema = <T extends z.ZodType>(data: T) =>
  z.object({
    success: z.boolean(),
    message: z.string(),
    error: z.union([z.object({}).strict(), z.object({ code: z.string(), details: z.unknown().optional() })]),
    data,
  });

/** Roles a person's token carries (the token CLI mints these). */
export const ROLES = ["admin", "user"] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES);

/**
 * The role of service-to-service tokens (submission-service and evaluators calling
 * problem-service). Deliberately not a Role: user and admin endpoints refuse it, and
 * internal endpoints accept only it.
 */
export const SERVICE_ROLE = "service" as const;

/** JWT claims every user-facing endpoint trusts (HS256, signed with JWT_SECRET). */
export const authClaimsSchema = z.object({
  sub: z.string().min(1).max(128),
  role: roleSchema,
  /** Expiry (seconds since the epoch), required: a token without one is refused. Long-lived connections end when it passes. */
  exp: z.number().int(),
});
export type AuthClaims = z.infer<typeof authClaimsSchema>;

/** Claims of a service token: which service calls, and a short expiry. */
export const serviceClaimsSchema = z.object({
  sub: z.string().min(1).max(128),
  role: z.literal(SERVICE_ROLE),
  iat: z.number().int(),
  exp: z.number().int(),
});
export type ServiceClaims = z.infer<typeof serviceClaimsSchema>;
