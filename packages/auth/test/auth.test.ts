import assert from "node:assert/strict";
import { test } from "node:test";
import { SignJWT } from "jose";
import { signServiceToken, signToken, verifyServiceToken, verifyToken } from "../src/index.js";

const SECRET = "auth-test-secret-0123456789abcdefghijklmnop";
const key = new TextEncoder().encode(SECRET);

async function status(promise: Promise<unknown>): Promise<number | "ok"> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    return (error as { status: number }).status;
  }
}

test("a person's token carries exp and verifies; one without exp is refused", async () => {
  const claims = await verifyToken(await signToken({ sub: "alice", role: "user" }, SECRET), SECRET);
  assert.equal(claims.sub, "alice");
  assert.ok(claims.exp * 1000 > Date.now());
  const noExp = await new SignJWT({ role: "admin" }).setProtectedHeader({ alg: "HS256" }).setSubject("mallory").setIssuedAt().sign(key);
  assert.equal(await status(verifyToken(noExp, SECRET)), 401);
  assert.equal(await status(verifyToken(await signToken({ sub: "a", role: "admin" }, "another-secret-0123456789abcdefghijkl"), SECRET)), 401);
});

test("service tokens: refused where people act (403), accepted only by verifyServiceToken, short-lived only", async () => {
  const service = await signServiceToken("submission-service", SECRET);
  assert.equal(await status(verifyToken(service, SECRET)), 403);
  const claims = await verifyServiceToken(service, SECRET);
  assert.deepEqual({ sub: claims.sub, role: claims.role }, { sub: "submission-service", role: "service" });
  assert.ok(claims.exp - claims.iat <= 60);
  // A user or admin token is not a service token.
  assert.equal(await status(verifyServiceToken(await signToken({ sub: "admin", role: "admin" }, SECRET), SECRET)), 403);
  // A long-lived service token (e.g. minted by hand) is refused.
  assert.equal(await status(verifyServiceToken(await signServiceToken("x", SECRET, 3_600), SECRET)), 401);
  const noIat = await new SignJWT({ role: "service" }).setProtectedHeader({ alg: "HS256" }).setSubject("x").setExpirationTime("30s").sign(key);
  assert.equal(await status(verifyServiceToken(noIat, SECRET)), 401);
  const expired = await new SignJWT({ role: "service" }).setProtectedHeader({ alg: "HS256" }).setSubject("x").setIssuedAt(Math.floor(Date.now() / 1000) - 120).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(key);
  assert.equal(await status(verifyServiceToken(expired, SECRET)), 401);
});

test("verified tokens are remembered per secret and only until their exp", async () => {
  const token = await signToken({ sub: "bob", role: "user" }, SECRET, "2s");
  const first = await verifyToken(token, SECRET);
  assert.equal(first.sub, "bob");
  const second = await verifyToken(token, SECRET);
  assert.equal(second.sub, "bob", "a second check (from memory) agrees");
  // Parsed once: the remembered claims are one frozen object, so no caller can alter another's.
  assert.equal(second, first);
  assert.ok(Object.isFrozen(second));
  // Remembered under SECRET, still refused under another secret.
  assert.equal(await status(verifyToken(token, "another-secret-0123456789abcdefghijkl")), 401);
  // A token differing from a remembered one only in its signature is checked, and refused.
  const [header, payload, signature] = token.split(".");
  const forged = `${header}.${payload}.${signature!.startsWith("A") ? "B" : "A"}${signature!.slice(1)}`;
  assert.equal(await status(verifyToken(forged, SECRET)), 401);
  // A remembered person's token is not a service token either.
  assert.equal(await status(verifyServiceToken(token, SECRET)), 403);
  await new Promise((resolve) => setTimeout(resolve, 3_100));
  assert.equal(await status(verifyToken(token, SECRET)), 401, "past its exp a remembered token is refused");
});
