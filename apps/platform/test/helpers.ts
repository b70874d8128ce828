import { io, type Socket } from "socket.io-client";
import type { ServerToClientEvents, ClientToServerEvents } from "@sonocode/contracts";
import { silentLogger } from "@sonocode/logger";
import { testRedisUrl } from "@sonocode/testkit";
import { startPlatform, type Platform, type PlatformOptions } from "../src/platform.js";

/** The secret the in-process test platforms sign with (there is no public default any more). */
export const TEST_JWT_SECRET = "platform-test-secret-0123456789abcdefghij";

export type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** The embedded platform on the shared test Redis, in-memory PGlite and bwrap, on free ports, silent. */
export function startTestPlatform(prefix: string, overrides: Partial<PlatformOptions> = {}): Promise<Platform> {
  return startPlatform({
    host: "127.0.0.1",
    ports: { problem: 0, submission: 0, socket: 0, evaluator: 0 },
    jwtSecret: TEST_JWT_SECRET,
    redisUrl: testRedisUrl(),
    prefix,
    store: { kind: "pglite", dataDir: null },
    dataDir: "/tmp/unused",
    sandbox: { engine: "bwrap" },
    evaluatorConcurrency: 1,
    logLevel: "silent",
    maxCodeBytes: 64 * 1024,
    seed: false,
    loggerFor: () => silentLogger(),
    ...overrides,
  });
}

/** HTTP call returning status + parsed envelope. */
export async function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown } = {},
): Promise<{ status: number; body: { success: boolean; message: string; error: { code?: string }; data: any } }> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = "application/json";
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

export async function connectSocket(url: string, token: string): Promise<ClientSocket> {
  const socket: ClientSocket = io(url, { auth: { token }, transports: ["websocket"], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", (err) => reject(err));
  });
  return socket;
}

export const PYTHON_AB_OK = "a, b = map(int, input().split())\nprint(a + b)\n";
export const PYTHON_AB_WRONG = "a, b = map(int, input().split())\nprint(a - b)\n";

export const AB_PROBLEM = {
  title: "A + B",
  description: "Print a + b.",
  difficulty: "easy",
  testCases: [
    { input: "1 2\n", output: "3\n" },
    { input: "5 7\n", output: "12\n" },
    { input: "100 -1\n", output: "99\n", hidden: true },
  ],
  codeStubs: [
    {
      language: "CPP",
      startSnippet: "#include <iostream>\nusing namespace std;\n",
      userSnippet: "long long solve(long long a, long long b) { return 0; }",
      endSnippet: "\nint main() { long long a, b; cin >> a >> b; cout << solve(a, b) << endl; }\n",
    },
  ],
};
