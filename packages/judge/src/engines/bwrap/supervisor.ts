// The judge's side of native/supervisor.c, the bwrap engine's persistent executor: one
// process per session that keeps the session's namespaces and mounts and forks each
// run (see the C file for the process tree and why nothing inside can reach it).
//
// The wire: length-prefixed messages of NUL-terminated fields on its stdin, status
// lines on fd 3, and the programs' output on its stdout/stderr pipes, which live as
// long as the session. Where one run's output ends is marked by the supervisor, after
// the run's whole pid namespace is gone, with 24 random bytes chosen here per run and
// never seen by the program (so it cannot fake an early end).
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import type { Readable, Writable } from "node:stream";
import type { Logger } from "pino";
import { SandboxError } from "../../errors.js";
import { lowerPriority } from "../../sandbox/priority.js";

const MARKER_BYTES = 24;
const STATUS_FD = 3;
/** The supervisor's own setup (mounts, pivot_root) must not hang. */
const START_TIMEOUT_MS = 10_000;

export interface SupervisorConfig {
  binary: string;
  seccomp: string;
  /** The slot's persistent network namespace, or null: the supervisor then makes one for the session. */
  netns: string | null;
  uid: number;
  rootfs: string;
  dev: string;
  /** The size cap of the session's /box, a tmpfs the supervisor mounts in its own mount namespace (native/session-box.c). */
  boxBytes: number;
  /**
   * An unprivileged judge (native/userns-view.c): the supervisor builds the view from a
   * user namespace that `map` fills (userns.ts); `rootfs` is then the empty directory it
   * mounts the overlay of `layers` on.
   */
  userns?: { layers: string; map(pid: number): Promise<void> } | undefined;
  /** Nice value (0-19) of the supervisor and all it runs (sandbox/priority.ts); 0 or absent: the judge's own. */
  nice?: number | undefined;
  logger: Logger | undefined;
}

export interface RunMessage {
  writable: boolean;
  fileSizeBytes: number;
  openFiles: number;
  stackBytes: number;
  cpuSeconds: number;
  tmpBytes: number;
  argv: readonly string[];
  env: readonly string[];
  /** Inline bytes, or an absolute host path the supervisor opens (already resolved by the caller). */
  stdin: Buffer | { readonly path: string };
}

export interface RunReply {
  kind: "exit" | "signal" | "killed" | "execfail" | "error";
  /** Exit code, signal number or errno. */
  value: number;
  maxRssKb: number;
  /** The program's wall time as the run's init measured it (fork to reap), 0 when it was killed. */
  wallUs: number;
  /** For "error": the stage that failed. */
  stage: string;
  /** A paired run's program: the bytes of its stdout the supervisor relayed towards the helper (at most one past its output limit); else 0. */
  crossedBytes: number;
}

export interface RunSinks {
  stdout(data: Buffer): void;
  stderr(data: Buffer): void;
}

/** One init's spec: "<writable> <fsize> <nofile> <stack> <cpu-s> <tmp> <argc> argv... <envc> env...". */
function specFields(message: Omit<RunMessage, "stdin">): string[] {
  return [
    message.writable ? "1" : "0",
    String(message.fileSizeBytes), String(message.openFiles), String(message.stackBytes), String(message.cpuSeconds), String(message.tmpBytes),
    String(message.argv.length), ...message.argv, String(message.env.length), ...message.env,
  ];
}

function encode(fields: readonly string[], tail?: Buffer): Buffer {
  for (const field of fields) if (field.includes("\0")) throw new SandboxError("sandbox arguments must not contain NUL");
  const body = Buffer.from(fields.map((f) => `${f}\0`).join(""), "utf8");
  const length = Buffer.alloc(4);
  length.writeUInt32LE(body.length + (tail?.length ?? 0));
  return tail ? Buffer.concat([length, body, tail]) : Buffer.concat([length, body]);
}

/** One output pipe: hands a run's bytes to its sink until that run's marker, holding back a possible marker prefix. */
export class MarkedStream {
  private carry: Buffer | null = null;
  private target: { marker: Buffer; sink: (data: Buffer) => void; ended: () => void } | null = null;
  /** Bytes seen with no run waiting for them (would be a protocol bug). */
  stray = 0;

  expect(marker: Buffer, sink: (data: Buffer) => void, ended: () => void): void {
    this.target = { marker, sink, ended };
  }

  push(chunk: Buffer): void {
    let data = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = null;
    while (data.length > 0) {
      const target = this.target;
      if (!target) {
        this.stray += data.length;
        return;
      }
      const at = data.indexOf(target.marker);
      if (at >= 0) {
        if (at > 0) target.sink(data.subarray(0, at));
        this.target = null;
        data = data.subarray(at + target.marker.length);
        target.ended();
        continue;
      }
      let hold = Math.min(data.length, target.marker.length - 1);
      while (hold > 0 && !data.subarray(data.length - hold).equals(target.marker.subarray(0, hold))) hold--;
      if (data.length > hold) target.sink(data.subarray(0, data.length - hold));
      if (hold > 0) this.carry = Buffer.from(data.subarray(data.length - hold));
      return;
    }
  }
}

/** A paired run's two answers: the program's and the helper's (null when the pair never started). */
export interface PairReply {
  program: RunReply;
  helper: RunReply | null;
}

interface Pending {
  seq: string;
  reply: RunReply | null;
  /** A paired run's helper answer ("<seq>a ..."), which comes before the program's. */
  helperReply: RunReply | null;
  ends: number;
  resolve: (reply: PairReply) => void;
  reject: (error: Error) => void;
}

export class Supervisor {
  private readonly out = new MarkedStream();
  private readonly err = new MarkedStream();
  private lines = "";
  private seq = 0;
  private pending: Pending | null = null;
  private exited = false;
  private onReady: ((error: Error | null) => void) | null = null;
  /** Writes into /box in flight ("put"), by their sequence ("w<n>"). */
  private readonly puts = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  private mapUserns: ((pid: number) => Promise<void>) | null = null;

  private constructor(
    private readonly child: ChildProcess,
    private readonly logger: Logger | undefined,
  ) {
    const [ctl, stdout, stderr, status] = child.stdio as unknown as [Writable, Readable, Readable, Readable];
    stdout.on("data", (c: Buffer) => this.out.push(c));
    stderr.on("data", (c: Buffer) => this.err.push(c));
    status.on("data", (c: Buffer) => this.status(c.toString("latin1")));
    for (const stream of [ctl, stdout, stderr, status]) stream.on("error", () => undefined);
    child.on("error", (error) => this.gone(error));
    child.on("exit", () => this.gone(new SandboxError("the sandbox supervisor exited")));
    // An idle supervisor does not keep the judge process alive (a run in flight has its own
    // timers); a session left undisposed dies with the judge (PR_SET_PDEATHSIG).
    child.unref();
    for (const stream of [ctl, stdout, stderr, status] as unknown as Array<{ unref?: () => void }>) stream.unref?.();
  }

  /** Starts the supervisor and has it build the session's view; resolves once it is ready. */
  static async start(config: SupervisorConfig): Promise<Supervisor> {
    // argv0 is what /proc/1/cmdline shows inside (the run init is a fork of this process): no host path.
    // A session of its own (setsid; it still dies with the judge: PR_SET_PDEATHSIG): a terminal's
    // Ctrl-C reaches the judge only, never a program mid-run, and the session's autogroup is the
    // sandboxes' alone, so lowering its priority leaves the judge's event loop at its own.
    const child = spawn(config.binary, [], { argv0: "sonocode-supervisor", stdio: ["pipe", "pipe", "pipe", "pipe"], env: {}, detached: true });
    if (config.nice && child.pid !== undefined) {
      // Before it is sent its config, so before it forks anything: all it starts inherits the priority.
      // Per session, so at debug: "refused" (an unprivileged supervisor made itself non-dumpable
      // first) still leaves the process's own nice value lowered.
      try {
        const outcome = lowerPriority(child.pid, config.nice);
        config.logger?.debug(outcome, "sandbox session priority");
      } catch (error) {
        config.logger?.debug({ err: error }, "could not lower the sandbox supervisor's priority");
      }
    }
    const supervisor = new Supervisor(child, config.logger);
    const ready = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new SandboxError("sandbox supervisor start timed out")), START_TIMEOUT_MS);
      supervisor.onReady = (error) => {
        clearTimeout(timer);
        supervisor.onReady = null;
        if (error) reject(error);
        else resolve();
      };
    });
    // Both configs begin alike: <parent-pid> <uid> <gid> <box-bytes> <seccomp-file> (begin_config in session-view.c).
    const common = [String(process.pid), String(config.uid), String(config.uid), String(config.boxBytes), config.seccomp];
    if (config.userns) {
      supervisor.mapUserns = config.userns.map;
      supervisor.send(["uconfig", ...common, config.userns.layers, config.rootfs]);
    } else {
      supervisor.send(["config", ...common, config.netns ?? "-", config.rootfs, config.dev]);
    }
    try {
      await ready;
    } catch (error) {
      supervisor.kill();
      throw error;
    }
    return supervisor;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** The supervisor's host pid (null once it is gone): it forks and starts every run, so its waits for a CPU are the runs' too. */
  get pid(): number | null {
    return this.exited ? null : (this.child.pid ?? null);
  }

  /** Forks the next run's init into the run cgroup at these (resolved) directories. */
  prepare(version: 1 | 2, dirs: readonly string[]): void {
    this.send(["prep", String(version), ...dirs]);
  }

  /** Forks a paired run's helper init, to run as `uid` (never the program's), into the helper's own cgroup. */
  prepareHelper(version: 1 | 2, uid: number, dirs: readonly string[]): void {
    this.send(["prepaux", String(version), String(uid), ...dirs]);
  }

  /** Starts the prepared run; output goes to the sinks until its end marker, then the reply resolves. */
  async run(message: RunMessage, sinks: RunSinks): Promise<RunReply> {
    const fields = ["run", ...specFields(message)];
    return (await this.start(fields, message.stdin, sinks)).program;
  }

  /**
   * Starts the prepared run and the prepared helper side by side, their standard streams
   * crossed: the program's stdin is the helper's stdout and vice versa, the helper's
   * `stdin` arrives on its fd 3. sinks.stdout gets the helper's stderr, sinks.stderr the program's.
   * The program's stdout is relayed to the helper by the supervisor, counted; past
   * `programOutputBytes` it ends the pair (the count is the program's reply.crossedBytes).
   */
  runPair(program: Omit<RunMessage, "stdin">, helper: RunMessage, sinks: RunSinks, programOutputBytes: number): Promise<PairReply> {
    return this.start(["pair", String(programOutputBytes), ...specFields(program), ...specFields(helper)], helper.stdin, sinks);
  }

  private start(fields: readonly string[], stdin: RunMessage["stdin"], sinks: RunSinks): Promise<PairReply> {
    if (this.exited) return Promise.reject(new SandboxError("the sandbox supervisor is gone"));
    if (this.pending) return Promise.reject(new SandboxError("a run is already in flight in this session"));
    const seq = String(++this.seq);
    const marker = randomBytes(MARKER_BYTES);
    return new Promise<PairReply>((resolve, reject) => {
      const pending: Pending = { seq, reply: null, helperReply: null, ends: 0, resolve, reject };
      const ended = () => {
        pending.ends++;
        this.settle(pending);
      };
      this.out.expect(marker, sinks.stdout, ended);
      this.err.expect(marker, sinks.stderr, ended);
      this.pending = pending;
      // The command, then <seq> <marker> before the spec(s).
      const [command, ...specs] = fields;
      const head = [command!, seq, marker.toString("hex"), ...specs];
      try {
        if (Buffer.isBuffer(stdin)) this.send([...head, "-"], stdin);
        else this.send([...head, "@", stdin.path]);
      } catch (error) {
        this.pending = null;
        reject(error as Error);
      }
    });
  }

  /** A file into the session's /box, written by the supervisor (the /box tmpfs exists in its mount namespace only). */
  put(name: string, content: Buffer): Promise<void> {
    if (this.exited) return Promise.reject(new SandboxError("the sandbox supervisor is gone"));
    const seq = `w${++this.seq}`;
    return new Promise<void>((resolve, reject) => {
      // Also what keeps the process alive meanwhile: the supervisor's pipes are unref'd.
      const timer = setTimeout(() => {
        this.puts.delete(seq);
        reject(new SandboxError("writing into the sandbox work dir timed out"));
      }, START_TIMEOUT_MS);
      const done = (error: Error | null) => {
        clearTimeout(timer);
        if (error) reject(error);
        else resolve();
      };
      this.puts.set(seq, { resolve: () => done(null), reject: done });
      try {
        this.send(["put", seq, name], content);
      } catch (error) {
        this.puts.delete(seq);
        done(error as Error);
      }
    });
  }

  /** SIGKILL: its inits die with it (PR_SET_PDEATHSIG), and their pid namespaces with them. */
  kill(): void {
    if (!this.exited) this.child.kill("SIGKILL");
  }

  /** Ends the session: EOF on its control pipe makes it kill its inits and exit. */
  close(): Promise<void> {
    if (this.exited) return Promise.resolve();
    // Waited for: its handle keeps the event loop alive until it has exited. (Unref'd, a
    // supervisor slower than the timer to end, as under emulation, left a loop with nothing
    // to wait on once the SIGKILL went out: the caller's promise never settled.)
    this.child.ref();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.kill(), 2_000);
      this.child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      (this.child.stdio[0] as Writable).end();
    });
  }

  private send(fields: readonly string[], tail?: Buffer): void {
    if (this.exited) throw new SandboxError("the sandbox supervisor is gone");
    (this.child.stdio[0] as Writable).write(encode(fields, tail));
  }

  private settle(pending: Pending): void {
    if (pending.reply && pending.ends === 2 && this.pending === pending) {
      this.pending = null;
      pending.resolve({ program: pending.reply, helper: pending.helperReply });
    }
  }

  private status(text: string): void {
    this.lines += text;
    let nl: number;
    while ((nl = this.lines.indexOf("\n")) >= 0) {
      const line = this.lines.slice(0, nl);
      this.lines = this.lines.slice(nl + 1);
      this.line(line);
    }
  }

  private line(line: string): void {
    if (line === "ready") return this.onReady?.(null);
    if (line === "userns") return this.mapped();
    const parts = line.split(" ");
    const put = parts[1] === "put" ? this.puts.get(parts[0] ?? "") : undefined;
    if (put) {
      this.puts.delete(parts[0]!);
      const errno = Number(parts[2]);
      if (errno === 0) put.resolve();
      else put.reject(new SandboxError(`cannot write a file into the sandbox work dir (errno ${errno})`));
      return;
    }
    if (parts[0] === "fatal") {
      this.logger?.error({ stage: parts[1], errno: Number(parts[2]) }, "sandbox supervisor failed");
      const error = new SandboxError(`sandbox supervisor failed (${parts[1] ?? "?"}, errno ${parts[2] ?? "?"})`);
      if (this.onReady) return this.onReady(error);
      return this.gone(error);
    }
    const pending = this.pending;
    const helper = pending !== null && parts[0] === `${pending.seq}a`;
    if (!pending || (parts[0] !== pending.seq && !helper)) {
      this.logger?.error({ line: line.slice(0, 200) }, "unexpected line from the sandbox supervisor");
      return;
    }
    const kind = parts[1] as RunReply["kind"];
    const reply: RunReply =
      kind === "error"
        ? { kind, value: Number(parts[3]), maxRssKb: 0, wallUs: 0, stage: parts[2] ?? "?", crossedBytes: 0 }
        : // A paired run's program line ends with the relayed count.
          { kind, value: Number(parts[2]), maxRssKb: Number(parts[3]), wallUs: Number(parts[4]), stage: "", crossedBytes: Number(parts[5] ?? 0) || 0 };
    if (helper) pending.helperReply = reply;
    else pending.reply = reply;
    this.settle(pending);
  }

  /** The supervisor made its user namespace and waits: map it from outside, then let it go on. */
  private mapped(): void {
    const map = this.mapUserns;
    this.mapUserns = null;
    if (!map || !this.child.pid) return this.onReady?.(new SandboxError("sandbox supervisor: unexpected user namespace"));
    map(this.child.pid)
      .then(() => this.send(["mapped"]))
      .catch((error: unknown) => this.onReady?.(error as Error));
  }

  private gone(error: Error): void {
    if (this.exited) return;
    this.exited = true;
    this.onReady?.(error);
    for (const put of this.puts.values()) put.reject(error);
    this.puts.clear();
    const pending = this.pending;
    this.pending = null;
    pending?.reject(error);
    if (this.out.stray + this.err.stray > 0) this.logger?.error({ stray: this.out.stray + this.err.stray }, "sandbox output outside any run");
  }
}
