import { token } from "./session.js";

/** An API answer that was not a success, with the platform's machine code (error.code). */
export class ApiError extends Error {
  override name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

interface Envelope {
  success: boolean;
  message: string;
  error: { code?: string; details?: unknown };
  data: unknown;
}

function isEnvelope(value: unknown): value is Envelope {
  return typeof value === "object" && value !== null && "success" in value && "data" in value;
}

export interface RequestOptions {
  body?: unknown;
  /** A raw body (a zip upload) with its content type; `body` is sent as JSON otherwise. */
  raw?: { data: Blob; contentType: string };
  signal?: AbortSignal;
}

/** One call to the platform, same origin; resolves with the envelope's data, rejects with ApiError. */
export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const bearer = token();
  if (bearer) headers["authorization"] = `Bearer ${bearer}`;
  let body: BodyInit | undefined;
  if (options.raw) {
    headers["content-type"] = options.raw.contentType;
    body = options.raw.data;
  } else if (options.body !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(path, { method, headers, body: body ?? null, signal: options.signal ?? null });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new ApiError(0, "NETWORK", "the server cannot be reached");
  }
  const parsed: unknown = await response.json().catch(() => null);
  if (!isEnvelope(parsed)) throw new ApiError(response.status, "BAD_RESPONSE", `unexpected answer (HTTP ${response.status})`);
  if (!response.ok || !parsed.success) {
    throw new ApiError(response.status, parsed.error.code ?? "UNKNOWN", parsed.message, parsed.error.details);
  }
  return parsed.data as T;
}

/** A readable one-liner for an error, validation details included. */
export function describeError(error: unknown): string {
  if (!(error instanceof ApiError)) return error instanceof Error ? error.message : String(error);
  const details = Array.isArray(error.details)
    ? error.details
        .filter((d): d is { path: string; message: string } => typeof d === "object" && d !== null && "message" in d)
        .map((d) => (d.path ? `${d.path}: ${d.message}` : d.message))
    : [];
  const prefix = error.status === 401 ? "Please sign in again: " : "";
  return `${prefix}${error.message}${details.length ? ` (${details.slice(0, 5).join("; ")})` : ""}`;
}
