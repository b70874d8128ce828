// The one-origin web server on its own: real HTTP and WebSocket traffic against small real
// upstream servers standing in for the three services (the browser test uses the real ones).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { verifyToken } from "@sonocode/auth";
import { listenHttp } from "@sonocode/lifecycle";
import { silentLogger } from "@sonocode/logger";
import { CLIENT_DIR, CONTENT_SECURITY_POLICY, createWebServer, devSignInFor, routeFor, webEnvSchema, type WebServer } from "../src/index.js";

const SECRET = "web-test-secret-0123456789abcdefghijklmn";

async function start(server: Server): Promise<string> {
  const { port } = await listenHttp(server, 0, "127.0.0.1");
  return `http://127.0.0.1:${port}`;
}

/** An upstream that answers with its own name and what it received, and accepts WebSocket upgrades. */
function upstream(name: string): Server {
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ success: true, message: name, error: {}, data: { name, method: req.method, url: req.url, body, host: req.headers.host, auth: req.headers.authorization ?? null } }));
    });
  });
  server.on("upgrade", (req: IncomingMessage, socket) => {
    socket.end(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nX-Upstream: ${name}\r\n\r\n`);
  });
  return server;
}

function upgrade(url: string, path: string): Promise<{ status: number; upstream?: string } | "closed"> {
  return new Promise((resolve) => {
    const req = request(`${url}${path}`, { headers: { connection: "Upgrade", upgrade: "websocket", "sec-websocket-version": "13", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==" } });
    req.on("upgrade", (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, upstream: String(res.headers["x-upstream"]) });
    });
    req.on("response", (res) => resolve({ status: res.statusCode ?? 0 }));
    req.on("error", () => resolve("closed"));
    req.end();
  });
}

describe("web server (one origin)", () => {
  const upstreams = { problem: upstream("problem"), submission: upstream("submission"), socket: upstream("socket") };
  let dist: string;
  let dev: WebServer;
  let prod: WebServer;
  let devUrl: string;
  let prodUrl: string;

  before(async () => {
    const [problem, submission, socket] = await Promise.all([start(upstreams.problem), start(upstreams.submission), start(upstreams.socket)]);
    dist = await mkdtemp(join(tmpdir(), "sonocode-web-dist-"));
    await mkdir(join(dist, "assets"));
    await writeFile(join(dist, "index.html"), "<!doctype html><title>app</title>");
    await writeFile(join(dist, "assets", "app-1234.js"), "console.log(1)");
    dev = createWebServer({ upstreams: { problem, submission, socket }, distDir: dist, devSignIn: devSignInFor("development", SECRET) }, silentLogger());
    // Production: the same factory; devSignInFor refuses a secret there.
    prod = createWebServer({ upstreams: { problem, submission, socket: "http://127.0.0.1:1" }, distDir: dist, devSignIn: devSignInFor("production", SECRET) }, silentLogger());
    [devUrl, prodUrl] = await Promise.all([start(dev.server), start(prod.server)]);
  });

  after(async () => {
    await Promise.all([dev?.close(), prod?.close()]);
    for (const server of Object.values(upstreams)) server.close();
    await rm(dist, { recursive: true, force: true });
  });

  test("routes: each API family to its service, paths unchanged, nothing else", () => {
    assert.equal(routeFor("/api/v1/problems")?.upstream, "problem");
    assert.equal(routeFor("/api/v1/problems/abc/rejudge")?.upstream, "problem");
    assert.equal(routeFor("/api/v1/problems?page=2")?.upstream, "problem");
    assert.equal(routeFor("/api/v1/submissions/1")?.upstream, "submission");
    assert.equal(routeFor("/api/v1/submission")?.upstream, "submission");
    assert.equal(routeFor("/api/v1/runs/9")?.upstream, "submission");
    assert.equal(routeFor("/socket.io/?EIO=4&transport=websocket")?.upstream, "socket");
    assert.equal(routeFor("/api/v1/problemsX"), undefined);
    assert.equal(routeFor("/api/v1/runsfoo"), undefined);
    assert.equal(routeFor("/internal/v1/test-sets/x"), undefined, "internal endpoints are never exposed");
  });

  test("proxies method, path, query, body and the bearer header to the right upstream", async () => {
    const cases = [
      ["GET", "/api/v1/problems?difficulty=easy", "problem"],
      ["POST", "/api/v1/submissions", "submission"],
      ["POST", "/api/v1/runs", "submission"],
      ["GET", "/socket.io/?EIO=4&transport=polling", "socket"],
    ] as const;
    for (const [method, path, name] of cases) {
      const response = await fetch(`${devUrl}${path}`, { method, headers: { authorization: "Bearer abc.def.ghi", "content-type": "application/json" }, ...(method === "POST" ? { body: '{"x":1}' } : {}) });
      const body = (await response.json()) as { data: { name: string; url: string; body: string; method: string; auth: string } };
      assert.equal(body.data.name, name, path);
      assert.equal(body.data.url, path);
      assert.equal(body.data.method, method);
      assert.equal(body.data.auth, "Bearer abc.def.ghi");
      if (method === "POST") assert.equal(body.data.body, '{"x":1}');
    }
  });

  test("WebSocket upgrades of /socket.io/ reach socket-service; other upgrades are refused", async () => {
    assert.deepEqual(await upgrade(devUrl, "/socket.io/?EIO=4&transport=websocket"), { status: 101, upstream: "socket" });
    assert.equal(await upgrade(devUrl, "/api/v1/problems"), "closed");
  });

  test("an upstream that is down is a 503 naming it, never a 500", async () => {
    const response = await fetch(`${prodUrl}/socket.io/?EIO=4&transport=polling`);
    assert.equal(response.status, 503);
    const body = (await response.json()) as { error: { code: string; details: { component: string } } };
    assert.equal(body.error.code, "DEPENDENCY_UNAVAILABLE");
    assert.equal(body.error.details.component, "socket-service");
  });

  test("dev sign-in mints a verifiable user or admin token; bad names are 400", async () => {
    const config = (await (await fetch(`${devUrl}/api/web/config`)).json()) as { data: { devSignIn: boolean } };
    assert.equal(config.data.devSignIn, true);
    for (const role of ["user", "admin"] as const) {
      const response = await fetch(`${devUrl}/api/dev/token`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ name: "alice", role }) });
      assert.equal(response.status, 200);
      const { data } = (await response.json()) as { data: { token: string } };
      const claims = await verifyToken(data.token, SECRET);
      assert.equal(claims.sub, "alice");
      assert.equal(claims.role, role);
    }
    for (const body of ['{"name":"a b"}', '{"name":"x","role":"service"}', '{"name":"x","extra":1}', "{nope"]) {
      const response = await fetch(`${devUrl}/api/dev/token`, { method: "POST", headers: { "content-type": "application/json" }, body });
      assert.equal(response.status, 400, body);
    }
  });

  test("the dev sign-in answers only peers on this machine", async (t) => {
    const address = Object.values(networkInterfaces()).flat().find((a) => a && a.family === "IPv4" && !a.internal)?.address;
    if (!address) return t.skip("no non-loopback IPv4 address on this machine");
    const open = createWebServer({ upstreams: { problem: devUrl, submission: devUrl, socket: devUrl }, distDir: dist, devSignIn: devSignInFor("development", SECRET) }, silentLogger());
    await new Promise<void>((resolve) => open.server.listen(0, "0.0.0.0", resolve));
    try {
      const { port } = open.server.address() as AddressInfo;
      const response = await fetch(`http://${address}:${port}/api/dev/token`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"name":"mallory","role":"admin"}' });
      assert.equal(response.status, 403);
      assert.doesNotMatch(await response.text(), /eyJ/, "no token in the answer");
      const local = await fetch(`http://127.0.0.1:${port}/api/dev/token`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"name":"alice"}' });
      assert.equal(local.status, 200);
    } finally {
      await open.close();
    }
  });

  test("the dev sign-in refuses a loopback peer that names another host (DNS rebinding)", async () => {
    const mint = (headers: Record<string, string>) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request(`${devUrl}/api/dev/token`, { method: "POST", headers: { "content-type": "application/json", ...headers } }, (res) => {
          let body = "";
          res.on("data", (chunk) => (body += chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", reject);
        req.end('{"name":"mallory","role":"admin"}');
      });
    const port = new URL(devUrl).port;
    // attacker.example re-bound to 127.0.0.1: the browser sends its own name as Host and Origin
    const refusedHeaders: Record<string, string>[] = [{ host: `attacker.example:${port}`, origin: `http://attacker.example:${port}` }, { host: `attacker.example:${port}` }, { host: `127.0.0.1:${port}`, origin: "http://attacker.example" }, { host: `localhost.attacker.example:${port}` }, { host: `127.0.0.1:${port}`, origin: "null" }];
    for (const headers of refusedHeaders) {
      const refused = await mint(headers);
      assert.equal(refused.status, 403, JSON.stringify(headers));
      assert.doesNotMatch(refused.body, /eyJ/, "no token in the answer");
    }
    const acceptedHeaders: Record<string, string>[] = [{ host: `127.0.0.1:${port}` }, { host: `localhost:${port}`, origin: `http://localhost:${port}` }, { host: `[::1]:${port}`, origin: `http://127.0.0.1:${port}` }];
    for (const headers of acceptedHeaders) {
      assert.equal((await mint(headers)).status, 200, JSON.stringify(headers));
    }
  });

  test("in production the dev sign-in does not exist", async () => {
    const config = (await (await fetch(`${prodUrl}/api/web/config`)).json()) as { data: { devSignIn: boolean } };
    assert.equal(config.data.devSignIn, false);
    const response = await fetch(`${prodUrl}/api/dev/token`, { method: "POST", headers: { "content-type": "application/json" }, body: '{"name":"mallory","role":"admin"}' });
    assert.equal(response.status, 404);
    assert.equal(((await response.json()) as { error: { code: string } }).error.code, "ROUTE_NOT_FOUND");
    assert.equal(devSignInFor("production", SECRET), undefined);
    assert.equal(devSignInFor("development", undefined), undefined);
  });

  test("serves the app: deep links get index.html with the CSP, assets are immutable, unknown API paths are JSON 404s", async () => {
    const page = await fetch(`${devUrl}/problems/0123456789abcdef01234567`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>app<\/title>/);
    assert.equal(page.headers.get("content-security-policy"), CONTENT_SECURITY_POLICY);
    assert.match(CONTENT_SECURITY_POLICY, /script-src 'self'(;|$)/);
    const asset = await fetch(`${devUrl}/assets/app-1234.js`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get("cache-control") ?? "", /immutable/);
    assert.equal((await fetch(`${devUrl}/assets/missing.js`)).status, 404);
    const unknown = await fetch(`${devUrl}/api/v2/whatever`);
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: { code: string } }).error.code, "ROUTE_NOT_FOUND");
  });

  test("client mistakes on static paths and bodies are 4xx envelopes, never a 500", async () => {
    const raw = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
      new Promise<{ status: number; code: string | undefined }>((resolve, reject) => {
        const req = request(`${devUrl}${path}`, { method, headers }, (res) => {
          let text = "";
          res.on("data", (chunk) => (text += chunk));
          res.on("end", () => {
            let code: string | undefined;
            try {
              code = (JSON.parse(text) as { error?: { code?: string } }).error?.code;
            } catch {
              code = undefined;
            }
            resolve({ status: res.statusCode ?? 0, code });
          });
        });
        req.on("error", reject);
        req.end(body);
      });
    // serve-static's 403 for a path leaving the asset directory (sent as is, not normalised by a client)
    assert.deepEqual(await raw("GET", "/assets/..%2f..%2fpackage.json"), { status: 404, code: "NOT_FOUND" });
    // a range past the end of an asset (send's 416)
    assert.deepEqual(await raw("GET", "/assets/app-1234.js", { range: "bytes=999999-" }), { status: 400, code: "BAD_REQUEST" });
    // an undecodable asset path is a bad request, not a JSON error
    assert.deepEqual(await raw("GET", "/assets/%c0%ae%c0%ae/x"), { status: 400, code: "BAD_REQUEST" });
    // body-parser's 415 for a Content-Encoding it does not know
    const json = { "content-type": "application/json", "content-encoding": "br2" };
    assert.deepEqual(await raw("POST", "/api/dev/token", json, JSON.stringify({ name: "eve" })), { status: 415, code: "UNSUPPORTED_MEDIA_TYPE" });
    assert.deepEqual(await raw("POST", "/api/dev/token", { "content-type": "application/json" }, "{\"name\":"), { status: 400, code: "MALFORMED_JSON" });
  });

  test("OPTIONS: 204 with Allow on this server's own paths, no CORS grant; proxied API paths ask their service; unknown API paths 404", async () => {
    const options = (url: string, path: string, headers: Record<string, string> = {}) => fetch(`${url}${path}`, { method: "OPTIONS", headers });
    for (const [path, allow] of [["/", "GET, HEAD, OPTIONS"], ["/problems/abc", "GET, HEAD, OPTIONS"], ["/assets/app-1234.js", "GET, HEAD, OPTIONS"], ["/api/web/config", "GET, HEAD, OPTIONS"], ["/api/dev/token", "POST, OPTIONS"]] as const) {
      const response = await options(devUrl, path, { origin: "http://elsewhere.example", "access-control-request-method": "POST" });
      assert.equal(response.status, 204, path);
      assert.equal(response.headers.get("allow"), allow, path);
      assert.equal(response.headers.get("access-control-allow-origin"), null, `${path}: same-origin only`);
      assert.equal(await response.text(), "");
    }
    // Production has no dev sign-in: its path is unknown there.
    const prodSignIn = await options(prodUrl, "/api/dev/token");
    assert.equal(prodSignIn.status, 404);
    assert.equal(((await prodSignIn.json()) as { error: { code: string } }).error.code, "ROUTE_NOT_FOUND");
    assert.equal((await options(devUrl, "/api/nothing")).status, 404);
    // The services answer for their own paths (the stand-in echoes the method it got).
    const proxied = await options(devUrl, "/api/v1/problems");
    assert.equal(((await proxied.json()) as { data: { name: string; method: string } }).data.method, "OPTIONS");
  });

  test("distributed config: upstream URLs are validated, JWT_SECRET optional but 32+ characters when set", () => {
    const ok = webEnvSchema.parse({ SUBMISSION_SERVICE_URL: "http://sub:4002" });
    assert.equal(ok.WEB_PORT, 4000);
    assert.equal(ok.SUBMISSION_SERVICE_URL, "http://sub:4002");
    assert.equal(ok.JWT_SECRET, undefined);
    assert.equal(webEnvSchema.safeParse({ PROBLEM_SERVICE_URL: "not a url" }).success, false);
    assert.equal(webEnvSchema.safeParse({ JWT_SECRET: "short" }).success, false);
  });

  test("the browser code type-checks (strict, DOM lib)", () => {
    const tsc = spawnSync(process.execPath, [join(CLIENT_DIR, "..", "..", "..", "node_modules", "typescript", "bin", "tsc"), "-p", join(CLIENT_DIR, "tsconfig.json")], { encoding: "utf8" });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  });
});
