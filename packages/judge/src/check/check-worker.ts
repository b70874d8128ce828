// A checker worker thread: compares one output at a time, off the judge's event loop.
// Reading an expected-answer file synchronously is fine here: this thread serves no one else.
import { readFileSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { checkOutput } from "../checkers.js";
import type { CheckReply, CheckTask } from "./check-protocol.js";

const port = parentPort;
if (!port) throw new Error("check-worker.ts must run in a worker thread");

port.on("message", (task: CheckTask) => {
  let reply: CheckReply;
  try {
    const expected = "text" in task.expected ? task.expected.text : readFileSync(task.expected.path);
    reply = { id: task.id, ok: true, accepted: checkOutput(task.checker, expected, task.actual) };
  } catch (error) {
    reply = { id: task.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  port.postMessage(reply);
});
