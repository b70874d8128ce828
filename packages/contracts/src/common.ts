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

export const ROLES = ["admin", "user"] as const;
export type Role = (typeof ROLES)[number];
export const roleSchema = z.enum(ROLES);

/** JWT claims every service trusts (HS256, signed with JWT_SECRET). */
export const authClaimsSchema = z.object({
  sub: z.string().min(1).max(128),
  role: roleSchema,
  /** Expiry (seconds since the epoch); long-lived connections end when it passes. */
  exp: z.number().int().optional(),
});
export type AuthClaims = z.infer<typeof authClaimsSchema>;
