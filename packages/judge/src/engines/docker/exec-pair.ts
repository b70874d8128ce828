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
// engine's relay: its stdoutBytes, and one byte past the limit the exec's "output"
// watchdog): a program flooding an interactor that reads one growing line is OLE, never the
// interactor's memory limit and IE. The helper's stdout towards the program is not counted
// (the problem's output; bounded by the program's memory limit as it reads it, as on bwrap).
// Neither is kept here: those bytes are the other side's. Each direction holds back its
// source while its target is full (backpressure), so the host never buffers more than a
// stream's high-water mark of either.
import { readFile } from "node:fs/promises";
import { PassThrough } from "node:stream";
import type { PairedRunOutcome, PairedRunSpec, RunOutcome, RunSpec } from "../../sandbox/sandbox.js";
import type { ExecControl, ExecHooks } from "./exec-run.js";

/** Moves the first $1 bytes of stdin to fd 3, then execs the helper (argv from $2 on). */
const SIDE_SHIM = 'head -c "$1" > /tmp/.side-input || exit 120\nexec 3< /tmp/.side-input\nrm -f /tmp/.side-input\nshift\nexec "$@"';

export type HookedRun = (spec: RunSpec, hooks: ExecHooks) => Promise<RunOutcome>;

/**
 * One direction of the pair: a side's stdout into the other's stdin. With a limit, the bytes
 * are counted and one byte past it the source is killed as its output watchdog (nothing more
 * is handed on).
 */
class Link {
  /** Bytes the source wrote this way. */
  bytes = 0;
  private source: ExecControl | null = null;
  private paused = false;
  private killed = false;

  constructor(
    private readonly target: PassThrough,
    private readonly limit: number | null,
  ) {
    const resume = () => {
      if (!this.paused) return;
      this.paused = false;
      this.source?.resume();
    };
    target.on("drain", resume);
    // The other side is gone (its exec destroys its input): drop what comes, never hold the source.
    target.on("close", resume);
  }

  private get open(): boolean {
    return !this.target.destroyed && !this.target.writableEnded;
  }

  hooks(input: PassThrough, end: () => void): ExecHooks {
    return { input, onStdout: (chunk) => this.push(chunk), onEnd: end, attach: (control) => (this.source = control) };
  }

  /** The source's stdout has ended: so does the target's input. */
  end(): void {
    if (this.open) this.target.end();
  }

  private push(chunk: Buffer): void {
    let data = chunk;
    if (this.limit !== null) {
      const room = this.limit + 1 - this.bytes;
      this.bytes += chunk.length;
      if (this.bytes > this.limit && !this.killed) {
        this.killed = true;
        this.source?.killForOutput();
      }
      if (room <= 0) return;
      if (chunk.length > room) data = chunk.subarray(0, room);
    } else {
      this.bytes += chunk.length;
    }
    if (!this.open) return;
    if (!this.target.write(data) && !this.paused && this.source) {
      this.paused = true;
      this.source.pause();
    }
  }
}

export async function execPair(runProgram: HookedRun, runHelper: HookedRun, spec: PairedRunSpec): Promise<PairedRunOutcome> {
  const { input } = spec.helper;
  const side = input instanceof Uint8Array ? Buffer.from(input.buffer, input.byteOffset, input.byteLength) : await readFile(input.path);
  const toProgram = new PassThrough();
  const toHelper = new PassThrough();
  // Before anything the program writes: the shim reads exactly these bytes first.
  toHelper.write(side);
  const helperSpec: RunSpec = { ...spec.helper, argv: ["/bin/sh", "-c", SIDE_SHIM, "side-input", String(side.length), ...spec.helper.argv], stdin: "" };
  const towardsHelper = new Link(toHelper, spec.program.limits.outputBytes);
  const towardsProgram = new Link(toProgram, null);
  const [program, helper] = await Promise.allSettled([
    runProgram({ ...spec.program, stdin: "" }, towardsHelper.hooks(toProgram, () => towardsHelper.end())),
    runHelper(helperSpec, towardsProgram.hooks(toHelper, () => towardsProgram.end())),
  ]);
  // Both sides have ended either way; a sandbox failure of either is the pair's.
  if (program.status === "rejected") throw program.reason;
  if (helper.status === "rejected") throw helper.reason;
  // Facts: what the program wrote towards the helper (none of it kept); the helper's stdout is not counted.
  return { program: { ...program.value, stdoutBytes: towardsHelper.bytes }, helper: helper.value };
}
