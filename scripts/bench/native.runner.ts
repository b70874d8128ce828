// The native side of the pipeline benchmark, run by native.ts as
//   unshare --mount --propagation private -- node --import tsx native.runner.ts <rootfs>
// In that private mount namespace it binds the runtime rootfs read-only (the shared tree is
// never written), puts fresh tmpfs on /box and /tmp, binds /dev and mounts /proc; every
// mount disappears with the namespace when this process exits, whatever the exit. Then it
// answers one JSON request per stdin line with one JSON line on stdout: the judge's compile
// argv and one run per test, each `chroot <root> argv` spawned from Node as the judge
// spawns its sandbox, timed from spawn to close.
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { chrootArgv, nativePlan, sameAnswer } from "./native.plan.js";
import { nativeRequestSchema, type NativeRequest, type NativeResponse } from "./native.protocol.js";

// Generous: a loaded machine (load 50 was seen here) stretches tsc past two minutes.
const COMPILE_TIMEOUT_MS = 240_000;
const RUN_TIMEOUT_MS = 30_000;
const OUTPUT_CAP = 1 << 20;

interface Step {
  ms: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function mount(args: string[]): void {
  const result = spawnSync("mount", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`mount ${args.join(" ")}: ${result.stderr.trim() || `exit ${result.status}`}`);
}

function prepareRoot(rootfs: string): string {
  const root = mkdtempSync(join(tmpdir(), "sonocode-bench-native-"));
  mount(["--bind", rootfs, root]);
  mount(["-o", "remount,bind,ro", root]);
  mount(["-t", "tmpfs", "-o", "size=512m,mode=1777", "tmpfs", join(root, "box")]);
  mount(["-t", "tmpfs", "-o", "size=512m,mode=1777", "tmpfs", join(root, "tmp")]);
  mount(["--rbind", "/dev", join(root, "dev")]);
  mount(["-t", "proc", "proc", join(root, "proc")]);
  return root;
}

function emptyDir(dir: string): void {
  for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
}

function step(root: string, argv: readonly string[], env: Readonly<Record<string, string>>, stdin: string, timeoutMs: number): Promise<Step> {
  const [command, args] = chrootArgv(root, argv);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    // A session of its own (setsid), as bwrap --new-session gives the sandboxed program: with the
    // kernel's autogroup scheduling a session is a scheduling group, so on a loaded machine the
    // native run gets the same share of CPU as the sandboxed one, not a slice of ours.
    const child = spawn(command, args, { env: { ...env }, stdio: ["pipe", "pipe", "pipe"], detached: true });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    child.stdout.on("data", (chunk: Buffer) => {
      if ((outBytes += chunk.length) <= OUTPUT_CAP) out.push(chunk);
    });
    child.stderr.on("data", (chunk: Buffer) => {
      if (err.length < 64) err.push(chunk);
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ ms: performance.now() - started, code, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8").slice(0, 2_000) });
    });
    child.stdin.on("error", () => undefined); // a program that exits without reading its input
    child.stdin.end(stdin);
  });
}

function failed(what: string, result: Step): string {
  return `${what}: exit ${result.code ?? result.signal}${result.stderr ? `: ${result.stderr.trim()}` : ""}`;
}

async function measure(root: string, request: NativeRequest): Promise<NativeResponse> {
  const plan = nativePlan(request.language, request.memoryLimitMb);
  emptyDir(join(root, "box"));
  emptyDir(join(root, "tmp"));
  writeFileSync(join(root, plan.sourcePath), request.source);
  const started = performance.now();
  let compileMs = 0;
  if (plan.compile) {
    const compiled = await step(root, plan.compile, plan.env, "", COMPILE_TIMEOUT_MS);
    if (compiled.code !== 0) return { ok: false, error: failed("compile", compiled) };
    compileMs = compiled.ms;
  }
  const runMs: number[] = [];
  for (const [index, test] of request.tests.entries()) {
    const ran = await step(root, plan.run, plan.env, test.input, RUN_TIMEOUT_MS);
    if (ran.code !== 0) return { ok: false, error: failed(`test ${index}`, ran) };
    if (!sameAnswer(ran.stdout, test.output)) return { ok: false, error: `test ${index}: wrong answer ${JSON.stringify(ran.stdout.slice(0, 80))}` };
    runMs.push(ran.ms);
  }
  return { ok: true, compileMs, runMs, totalMs: performance.now() - started };
}

async function execFloor(root: string): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < 25; i++) {
    const result = await step(root, ["/bin/true"], { PATH: "/usr/bin:/bin" }, "", RUN_TIMEOUT_MS);
    if (i >= 5) samples.push(result.ms);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)]!;
}

async function main(): Promise<void> {
  const rootfs = process.argv[2];
  if (!rootfs) throw new Error("usage: native.runner.ts <rootfs> (inside unshare --mount)");
  const root = prepareRoot(rootfs);
  const write = (line: unknown) => process.stdout.write(`${JSON.stringify(line)}\n`);
  write({ ready: true, root, execFloorMs: await execFloor(root) });
  // One request at a time: the parent waits for each answer, so lines are handled in order.
  const lines = createInterface({ input: process.stdin });
  for await (const line of lines) {
    if (!line.trim()) continue;
    try {
      write(await measure(root, nativeRequestSchema.parse(JSON.parse(line))));
    } catch (error) {
      write({ ok: false, error: error instanceof Error ? error.message : String(error) });
    }
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`native runner: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
