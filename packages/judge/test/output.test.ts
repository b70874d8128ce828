// OutputCapture: what both engines keep of a run's output.
import assert from "node:assert/strict";
import { test } from "node:test";
import { OutputCapture } from "../src/sandbox/output.js";

test("stdout is kept whole up to the cap, also past the spill size, and overflow fires once", () => {
  let overflows = 0;
  const cap = 3 << 20;
  const capture = new OutputCapture(cap, 64 << 10, () => overflows++);
  const chunk = { length: 64 << 10 };
  let written = 0;
  for (let i = 0; written < cap + (128 << 10); i++) {
    // A fresh buffer per chunk, as a stream delivers them.
    capture.push(1, Buffer.alloc(chunk.length, i % 251));
    written += chunk.length;
  }
  const out = capture.bytes(1);
  assert.equal(out.length, cap);
  assert.equal(capture.written(1), written);
  assert.equal(overflows, 1);
  for (let i = 0; i < cap / chunk.length; i++) assert.equal(out[i * chunk.length + 7], i % 251, `chunk ${i}`);
});

test("small stdout is joined as written", () => {
  const capture = new OutputCapture(1 << 20, 1024, () => undefined);
  capture.push(1, Buffer.from("3\n"));
  capture.push(1, Buffer.from("4\n"));
  assert.equal(capture.bytes(1).toString(), "3\n4\n");
});

test("stderr keeps its head and its tail, so a runtime's last words survive a flood", () => {
  const capture = new OutputCapture(64 << 20, 1024, () => undefined);
  capture.push(2, Buffer.from("first line\n"));
  for (let i = 0; i < 1000; i++) capture.push(2, Buffer.from("noise noise noise noise\n"));
  capture.push(2, Buffer.from("java.lang.OutOfMemoryError: Java heap space\n"));
  const err = capture.bytes(2).toString();
  assert.ok(err.startsWith("first line\n"));
  assert.ok(err.endsWith("java.lang.OutOfMemoryError: Java heap space\n"));
  assert.match(err, /bytes of stderr not kept/);
  assert.ok(err.length < 1200, `kept ${err.length}`);
  assert.equal(capture.bytes(2).toString(), err, "reading twice gives the same bytes");
});
