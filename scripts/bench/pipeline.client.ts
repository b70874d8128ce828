// The benchmark's client of the public API: submissions over HTTP (node:http with
// keep-alive, cheaper per request than fetch, so the client is not what limits ingest)
// and final verdicts over socket.io, deduplicated by submission id (the final event is
// at-least-once) and timed on arrival.
import { Agent, request } from "node:http";
import { io, type Socket } from "socket.io-client";
import { isFinalStatus, socketResultPayloadSchema, type ClientToServerEvents, type ServerToClientEvents, type SocketResultPayload } from "@sonocode/contracts";

export interface HttpAnswer {
  status: number;
  body: string;
  ms: number;
}

export function createHttpClient(maxSockets: number) {
  const agent = new Agent({ keepAlive: true, maxSockets });
  const call = (method: string, url: string, token: string | undefined, payload?: unknown): Promise<HttpAnswer> => {
    const body = payload === undefined ? undefined : JSON.stringify(payload);
    const headers: Record<string, string | number> = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) Object.assign(headers, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
    return new Promise((resolve, reject) => {
      const started = performance.now();
      const req = request(url, { method, agent, headers, timeout: 60_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), ms: performance.now() - started }));
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new Error(`${method} ${url}: no answer in 60 s`)));
      req.on("error", reject);
      req.end(body);
    });
  };
  return { call, close: () => agent.destroy() };
}
export type HttpClient = ReturnType<typeof createHttpClient>;

/** A POST the API accepted (201 today; any 2xx counts, so a future 202 does not break the benchmark). */
export const accepted = (answer: HttpAnswer) => answer.status >= 200 && answer.status < 300;

/** The id of an accepted POST /api/v1/submissions, or an error naming what came back. */
export function createdSubmissionId(answer: HttpAnswer): string {
  if (!accepted(answer)) throw new Error(`POST /api/v1/submissions answered ${answer.status}: ${answer.body.slice(0, 300)}`);
  const id = (JSON.parse(answer.body) as { data?: { submission?: { _id?: unknown } } }).data?.submission?._id;
  if (typeof id !== "string") throw new Error(`${answer.status} without data.submission._id: ${answer.body.slice(0, 300)}`);
  return id;
}

export interface FinalEvent {
  at: number;
  /** The final event's payload: the submission without its code. */
  submission: SocketResultPayload;
}

/** One socket for one user; every final event it receives, first arrival per id. */
export interface FinalEvents {
  wait(id: string, timeoutMs: number): Promise<FinalEvent>;
  /** Resolves when every id has its final event (or rejects naming how many are missing). */
  waitAll(ids: readonly string[], timeoutMs: number): Promise<FinalEvent[]>;
  duplicates(): number;
  close(): void;
}

export async function watchFinalEvents(socketUrl: string, token: string): Promise<FinalEvents> {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = io(socketUrl, { auth: { token }, transports: ["websocket"], forceNew: true });
  const seen = new Map<string, FinalEvent>();
  const waiters = new Map<string, Array<(event: FinalEvent) => void>>();
  let duplicates = 0;
  let refused = false;
  socket.on("submissionPayloadResponse", (payload) => {
    const at = performance.now();
    const parsed = socketResultPayloadSchema.safeParse(payload);
    if (!parsed.success) {
      // Said once: a payload the contract refuses would otherwise end as a bare timeout.
      if (!refused) process.stderr.write(`[bench:pipeline] result event refused by the contract: ${parsed.error.message.slice(0, 500)}\n`);
      refused = true;
      return;
    }
    if (!isFinalStatus(parsed.data.status)) return;
    const id = parsed.data._id;
    if (seen.has(id)) return void (duplicates += 1);
    const event = { at, submission: parsed.data };
    seen.set(id, event);
    for (const resolve of waiters.get(id) ?? []) resolve(event);
    waiters.delete(id);
  });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket ${socketUrl}: no connection in 15 s`)), 15_000);
    socket.once("connect", () => (clearTimeout(timer), resolve()));
    socket.once("connect_error", (error) => (clearTimeout(timer), reject(error)));
  });

  const wait = (id: string, timeoutMs: number) =>
    new Promise<FinalEvent>((resolve, reject) => {
      const known = seen.get(id);
      if (known) return resolve(known);
      const timer = setTimeout(() => reject(new Error(`no final event for ${id} in ${timeoutMs} ms`)), timeoutMs);
      const list = waiters.get(id) ?? [];
      list.push((event) => (clearTimeout(timer), resolve(event)));
      waiters.set(id, list);
    });

  return {
    wait,
    waitAll: async (ids, timeoutMs) => {
      const deadline = Date.now() + timeoutMs;
      const events: FinalEvent[] = [];
      for (const id of ids) {
        try {
          events.push(await wait(id, Math.max(1, deadline - Date.now())));
        } catch {
          const missing = ids.filter((other) => !seen.has(other)).length;
          throw new Error(`${missing} of ${ids.length} submissions had no final event after ${timeoutMs} ms`);
        }
      }
      return events;
    },
    duplicates: () => duplicates,
    close: () => void socket.disconnect(),
  };
}
