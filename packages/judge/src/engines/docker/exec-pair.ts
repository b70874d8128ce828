// A paired run on the Docker engine (interactive problems): the program runs in the
// submission's container and the helper (the interactor) in a container of its own, pinned
// to the same CPU; two `docker exec`s whose streams the host joins: each stdout chunk of
// one side is written into the other's stdin, and one side's end closes the other's stdin.
//
// Why it is shaped like this: a container is one cgroup, and a program and its interactor
// must be measured and limited apart (neither may be charged, starved or reached by the
// other); a second container gives the helper its own cgroup, pid, mount, IPC and network
// namespaces for free. Each exec keeps its own watchdogs (exec-run.ts), with the pair's wall
// limit on both: a pair that makes no progress ends at it. A side killed by its watchdog
// closes its output, so the other reads EOF. The helper's fd 3 (PairedRunSpec) is emulated:
// its input is written first on its stdin and a shell moves exactly that many bytes to a
// file it opens as fd 3 (then unlinks) before it execs the helper.
//
// The program's stdout is counted on its way to the helper, against the program's output
// limit (the same limit, and the same fact, as a plain run's stdout and as the bwrap
// engine's relay: its stdoutBytes, with the exec's "output" watchdog once past it): a program
// flooding an interactor that reads one growing line is OLE, never the interactor's memory
// limit and IE. Past the limit nothing more is handed on. Those bytes are the helper's, not
// kept here: the program's outcome has an empty stdout.
import { readFile } from "node:fs/promises";
import { PassThrough } from "node:stream";
import type { PairedRunOutcome, PairedRunSpec, RunOutcome, RunSpec } from "../../sandbox/sandbox.js";
import type { ExecHooks } from "./exec-run.js";

/** Moves the first $1 bytes of stdin to fd 3, then execs the helper (argv from $2 on). */
const SIDE_SHIM = 'head -c "$1" > /tmp/.side-input || exit 120\nexec 3< /tmp/.side-input\nrm -f /tmp/.side-input\nshift\nexec "$@"';

export type HookedRun = (spec: RunSpec, hooks: ExecHooks) => Promise<RunOutcome>;

function forward(target: PassThrough): (chunk: Buffer) => void {
  return (chunk) => {
    if (!target.destroyed && !target.writableEnded) target.write(chunk);
  };
}

/** The program's stdout towards the helper: counted, and cut one byte past its output limit (the exec's capture kills it there). */
class CountedForward {
  bytes = 0;

  constructor(
    private readonly target: PassThrough,
    private readonly limit: number,
  ) {}

  readonly push = (chunk: Buffer): void => {
    const room = this.limit + 1 - this.bytes;
    this.bytes += chunk.length;
    if (room > 0) forward(this.target)(chunk.length <= room ? chunk : chunk.subarray(0, room));
  };
}

function close(target: PassThrough): () => void {
  return () => {
    if (!target.destroyed && !target.writableEnded) target.end();
  };
}

export async function execPair(runProgram: HookedRun, runHelper: HookedRun, spec: PairedRunSpec): Promise<PairedRunOutcome> {
  const { input } = spec.helper;
  const side = input instanceof Uint8Array ? Buffer.from(input.buffer, input.byteOffset, input.byteLength) : await readFile(input.path);
  const toProgram = new PassThrough();
  const toHelper = new PassThrough();
  // Before anything the program writes: the shim reads exactly these bytes first.
  toHelper.write(side);
  const helperSpec: RunSpec = { ...spec.helper, argv: ["/bin/sh", "-c", SIDE_SHIM, "side-input", String(side.length), ...spec.helper.argv], stdin: "" };
  const towardsHelper = new CountedForward(toHelper, spec.program.limits.outputBytes);
  const [program, helper] = await Promise.allSettled([
    runProgram({ ...spec.program, stdin: "" }, { input: toProgram, onStdout: towardsHelper.push, onEnd: close(toHelper) }),
    runHelper(helperSpec, { input: toHelper, onStdout: forward(toProgram), onEnd: close(toProgram) }),
  ]);
  // Both sides have ended either way; a sandbox failure of either is the pair's.
  if (program.status === "rejected") throw program.reason;
  if (helper.status === "rejected") throw helper.reason;
  // Facts: what the program wrote towards the helper (counted above; the exec's capture
  // counted the same bytes and fired its output watchdog past the limit), none of it kept.
  return { program: { ...program.value, stdout: Buffer.alloc(0), stdoutBytes: towardsHelper.bytes }, helper: helper.value };
}
