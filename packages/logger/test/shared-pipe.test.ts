// Two real processes log through createLogger into one pipe (a FIFO: the semantics of the
// pipe a shell or Docker gives the embedded launcher, which its evaluator child inherits)
// that is read slowly: every line read back must be whole JSON, and none may be missing,
// including the last ones, logged right before process.exit(). The lines are 1-3.8 KiB:
// longer than PIPE_BUF, a single line can be split whatever the logger does. Node's own
// stdio "pipe" is a unix socket, which would hide the problem: the FIFO is the real thing.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { closeSync, constants, mkdtempSync, openSync, read, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

const fixture = new URL("./fixtures/pipe-writer.ts", import.meta.url).pathname;

interface Read {
  lines: string[];
  code: number | null;
}

/** Runs the launcher with stdout on a FIFO; reads it chunk by chunk, waiting pauseMs first and delayMs between reads, up to EOF. */
async function runOnFifo(args: string[], opts: { pauseMs: number; delayMs: number; chunk: number }): Promise<Read> {
  const dir = mkdtempSync(join(tmpdir(), "logger-pipe-"));
  const fifo = join(dir, "stdout");
  try {
    assert.equal(spawnSync("mkfifo", [fifo]).status, 0, "mkfifo");
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(fifo, constants.O_WRONLY);
    const launcher = spawn(process.execPath, ["--import", "tsx", fixture, "launcher", ...args], { stdio: ["ignore", writeFd, "inherit"] });
    closeSync(writeFd);
    const exited = new Promise<number | null>((resolve) => launcher.once("exit", (code) => resolve(code)));
    const chunks: Buffer[] = [];
    await new Promise<void>((resolve, reject) => {
      const next = (): void => {
        const buf = Buffer.alloc(opts.chunk);
        read(readFd, buf, 0, opts.chunk, null, (error, n) => {
          if (error && error.code !== "EAGAIN") return reject(error);
          // 0 bytes: every write end is closed (both processes are gone).
          if (!error && n === 0) return resolve();
          if (!error) chunks.push(buf.subarray(0, n));
          setTimeout(next, opts.delayMs);
        });
      };
      setTimeout(next, opts.pauseMs);
    });
    closeSync(readFd);
    const text = Buffer.concat(chunks).toString("utf8");
    assert.ok(text.endsWith("\n"), "the stream ends with a whole line");
    return { lines: text.slice(0, -1).split("\n"), code: await exited };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function parse(lines: string[]): { broken: string[]; entries: Array<Record<string, unknown>> } {
  const broken: string[] = [];
  const entries: Array<Record<string, unknown>> = [];
  for (const line of lines) {
    try {
      entries.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      broken.push(line.slice(0, 80));
    }
  }
  return { broken, entries };
}

/** The line numbers each role logged that never arrived, and whether its "stopped" did. */
function missing(entries: Array<Record<string, unknown>>, role: string, count: number): { lines: number[]; stopped: boolean } {
  const seen = new Set(entries.filter((e) => e.role === role && typeof e.i === "number").map((e) => e.i as number));
  const lines = Array.from({ length: count }, (_, i) => i).filter((i) => !seen.has(i));
  return { lines, stopped: entries.some((e) => e.role === role && e.last === true) };
}

test("launcher and child on one slowly read pipe: every line whole, none lost at exit", { timeout: 120_000 }, async () => {
  const count = 800;
  const { lines, code } = await runOnFifo([String(count), "burst"], { pauseMs: 0, delayMs: 1, chunk: 4096 });
  assert.equal(code, 0);
  const { broken, entries } = parse(lines);
  assert.deepEqual(broken, [], `${broken.length} of ${lines.length} lines are not JSON (two writers interleaved mid-line)`);
  for (const role of ["launcher", "child"]) {
    const lost = missing(entries, role, count);
    assert.deepEqual(lost, { lines: [], stopped: true }, `${role}: lines lost`);
  }
  assert.equal(entries.length, 2 * (count + 1));
});

test("a line logged into a full pipe reaches the reader when flushLogs() is awaited before process.exit()", { timeout: 120_000 }, async () => {
  const count = 100; // ~240 KiB: the pipe holds 64 KiB
  const { lines, code } = await runOnFifo([String(count), "full-pipe"], { pauseMs: 1_500, delayMs: 0, chunk: 65_536 });
  assert.equal(code, 0);
  const { broken, entries } = parse(lines);
  assert.deepEqual(broken, []);
  assert.deepEqual(missing(entries, "launcher", 0), { lines: [], stopped: true }, "the launcher's last line");
  assert.deepEqual(missing(entries, "child", count), { lines: [], stopped: true }, "the child's lines");
});
