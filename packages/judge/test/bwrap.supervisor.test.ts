// The bwrap engine's persistent executor (native/supervisor.c, engines/bwrap/supervisor.ts):
// the program cannot reach its supervisors (another uid, non-dumpable, the host-side one
// not even visible), nothing of one test survives into the next (background process,
// /tmp and /dev/shm files, SysV IPC), a program cannot spoil the session's output channels,
// output is split between runs exactly, and the
// supervisor dies with the judge. Needs root and the runtime rootfs.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createBwrapEngine, type RunLimits, type SandboxEngine, type SandboxSession } from "../src/index.js";
import { MarkedStream } from "../src/engines/bwrap/supervisor.js";
import { hostProcessesWith } from "./attacks.corpus.js";
import { textSession, type TextSession } from "./run-text.js";

/** A failed run's facts, for the assertion message (a slow guest shows as a CPU or wall watchdog). */
const facts = (run: { exitCode: number | null; signal: string | null; watchdog: string | null; cpuTimeMs: number; wallTimeMs: number }) =>
  JSON.stringify({ exit: run.exitCode, signal: run.signal, watchdog: run.watchdog, cpuMs: run.cpuTimeMs, wallMs: run.wallTimeMs });

const LIMITS: RunLimits = { cpuTimeMs: 3_000, wallTimeMs: 8_000, memoryBytes: 256 << 20, outputBytes: 8 << 20, processes: 16, fileSizeBytes: 1 << 20 };

/** Host pids of the supervisors this process started. */
function supervisors(parent = process.pid): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === parent && readFileSync(`/proc/${entry}/cmdline`, "latin1") === "sonocode-supervisor\0") found.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

describe("bwrap persistent executor", { concurrency: false }, () => {
  let engine: SandboxEngine;
  let raw: SandboxSession;
  let session: TextSession;
  const py = (code: string, writable = false) => session.run({ argv: ["/usr/bin/python3", "-c", code], stdin: "", limits: LIMITS, writableWorkDir: writable });

  before(async () => {
    engine = createBwrapEngine({});
    raw = await engine.open();
    session = textSession(raw);
  });
  after(async () => {
    await session?.dispose();
    await engine?.close();
  });

  it("the program cannot prlimit, signal, ptrace or open /proc/<pid>/mem of any supervisor, and sees none from the host", async () => {
    const [host] = supervisors();
    assert.ok(host, "one supervisor per session, a child of the judge");
    const status = readFileSync(`/proc/${host}/status`, "utf8");
    // Root: host root. Unprivileged (user namespace, bwrap.userns.test.ts): the evaluator's own uid.
    const me = process.getuid?.() ?? 0;
    assert.match(status, new RegExp(`^Uid:\\s+${me}\\s+${me}\\s+${me}\\s+${me}$`, "m"), "the supervisor runs as the judge's uid, never as the program's");
    const run = await py(
      [
        "import ctypes, os, resource, signal",
        "libc = ctypes.CDLL(None, use_errno=True)",
        "me = os.getpid()",
        "others = [int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) != me]",
        "reached = []",
        "for p in others:",
        "    try:",
        "        resource.prlimit(p, resource.RLIMIT_NOFILE, (1, 1))",
        "        reached.append(f'prlimit {p}')",
        "    except OSError:",
        "        pass",
        "    for path, mode in ((f'/proc/{p}/mem', os.O_RDWR), (f'/proc/{p}/mem', os.O_RDONLY), (f'/proc/{p}/environ', os.O_RDONLY)):",
        "        try:",
        "            os.close(os.open(path, mode))",
        "            reached.append(path)",
        "        except OSError:",
        "            pass",
        "    if libc.ptrace(16, p, 0, 0) == 0: reached.append(f'ptrace {p}')",
        "    for sig in (signal.SIGSTOP, signal.SIGKILL):",
        "        try:",
        "            os.kill(p, sig)",
        "            reached.append(f'kill {p} {sig}')",
        "        except OSError:",
        "            pass",
        "uids = [l for l in open('/proc/1/status') if l.startswith('Uid:')]",
        "print(others, os.getuid(), uids[0].split()[1], reached)",
      ].join("\n"),
    );
    assert.equal(run.exitCode, 0, `${run.stderr} ${facts(run)}`);
    const [others, uid, initUid, reached] = run.stdout.trim().split(" ", 4);
    // Only the run's init (pid 1) is visible: the session's supervisor lives outside the pid namespace.
    assert.equal(others, "[1]");
    assert.notEqual(uid, "0");
    assert.equal(initUid, "0", "the run's init is root, the program is not");
    assert.equal(reached, "[]");
    assert.deepEqual(supervisors(), [host], "the supervisor survived the attempts");
    // The session still runs normally.
    assert.equal((await py("print('ok')")).stdout, "ok\n");
  });

  it("a test's background process, /tmp and /dev/shm files and SysV IPC do not survive into the next test", async () => {
    const marker = `7.${randomBytes(4).readUInt32BE(0)}`;
    const first = await py(
      [
        "import ctypes, os, subprocess",
        // A process group of its own (a session of its own is refused: seccomp denies setsid, policy.ts).
        `subprocess.Popen(['/bin/sleep', '${marker}'], process_group=0)`,
        "open('/tmp/left', 'w').write('x')",
        "open('/dev/shm/left', 'w').write('x')",
        "libc = ctypes.CDLL(None, use_errno=True)",
        "print(libc.shmget(0x5eed, 4096, 0o1666))",
      ].join("\n"),
    );
    assert.equal(first.exitCode, 0, first.stderr);
    assert.ok(Number(first.stdout.trim()) >= 0, "the first test made a SysV segment");
    assert.deepEqual(hostProcessesWith(marker), [], "the background process died with its test");
    const second = await py(
      [
        "import ctypes, os",
        "libc = ctypes.CDLL(None, use_errno=True)",
        "procs = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())",
        "print(os.path.exists('/tmp/left'), os.path.exists('/dev/shm/left'), libc.shmget(0x5eed, 0, 0), len(procs))",
      ].join("\n"),
    );
    assert.equal(second.stdout, "False False -1 2\n", second.stderr);
  });

  it("a program that shuts down or unblocks its stdout/stderr affects only its own run", async () => {
    const spoiler = await py(
      [
        "import fcntl, os, socket, sys",
        "print('before', flush=True)",
        "for fd in (1, 2):",
        "    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)",
        "    try:",
        "        socket.socket(fileno=os.dup(fd)).shutdown(socket.SHUT_RDWR)",
        "    except OSError:",
        "        pass",
        "os.write(2, b'x')",
      ].join("\n"),
    );
    assert.equal(spoiler.stdout, "before\n", facts(spoiler));
    const next = await py("import sys\nsys.stdout.write('ok' * 100_000)\nsys.stderr.write('fine')");
    assert.equal(next.exitCode, 0, next.stderr);
    assert.equal(next.stdout, "ok".repeat(100_000));
    assert.equal(next.stderr, "fine");
  });

  it("a program that parks its stdout in an abandoned unix socket still gets its verdict at once", async () => {
    // The socket pair's queue holds stdout, stderr and the receiving end itself: once the
    // program is gone only the kernel's unix-socket garbage collector frees them, whenever
    // another unix socket on the host is released. The run must not wait for that EOF.
    // (On a busy host the collector may run soon anyway, so a regression shows as a slow
    // or failed run mostly on a quiet one.)
    const started = Date.now();
    const parked = await py(
      [
        "import os, socket",
        "print('parked', flush=True)",
        "a, b = socket.socketpair()",
        "socket.send_fds(a, [b'x'], [1, 2, b.fileno()])",
        "a.close()",
        "os._exit(3)",
      ].join("\n"),
    );
    assert.equal(parked.exitCode, 3, `${parked.stderr} ${facts(parked)}`);
    assert.equal(parked.stdout, "parked\n");
    assert.ok(Date.now() - started < 5_000, `the run ended ${Date.now() - started} ms after it started`);
    const next = await py("print('next')");
    assert.equal(next.stdout, "next\n");
  });

  it("splits output between runs exactly: large, binary and stdin from a host file", async () => {
    const input = join(tmpdir(), `sonocode-h1-${randomBytes(4).toString("hex")}`);
    const bytes = randomBytes(300_000);
    writeFileSync(input, bytes);
    try {
      for (let i = 0; i < 3; i++) {
        const out = await raw.run({ argv: ["/bin/cat"], stdin: { path: input }, limits: LIMITS, writableWorkDir: false });
        assert.ok(out.stdout.equals(bytes), "stdin from a host file comes back byte for byte");
        assert.equal(out.stderr.length, 0);
      }
      const big = await raw.run({ argv: ["/usr/bin/python3", "-c", "import sys\nsys.stdout.write('a' * 3_000_000)\nsys.stderr.write('e' * 60_000)"], stdin: "", limits: LIMITS, writableWorkDir: false });
      assert.equal(big.exitCode, 0);
      assert.ok(big.stdout.equals(Buffer.alloc(3_000_000, "a")));
      assert.ok(big.stderr.equals(Buffer.alloc(60_000, "e")));
      assert.equal((await py("print('next')")).stdout, "next\n");
    } finally {
      rmSync(input, { force: true });
    }
  });

  it("the supervisor dies with the judge, and its runs with it", { timeout: 180_000 }, async () => {
    const marker = `9.${randomBytes(4).readUInt32BE(0)}`;
    // The judge reports how far it got on its stdout, so a judge that never starts the run
    // says where it stopped (loading the engine, opening the session, or the run itself).
    const script = [
      "process.stdout.write('started ');",
      `const { createBwrapEngine } = await import(${JSON.stringify(new URL("../src/index.js", import.meta.url).pathname)});`,
      "process.stdout.write('loaded ');",
      "const engine = createBwrapEngine({});",
      "const session = await engine.open();",
      "process.stdout.write('opened ');",
      // The marker comes through the environment: this process's own command line must not carry it.
      `void session.run({ argv: ["/bin/sleep", process.env.MARKER], stdin: "", limits: ${JSON.stringify(LIMITS)}, writableWorkDir: false });`,
      "setInterval(() => {}, 1000);",
    ].join("\n");
    let supervisor: number | undefined;
    const child = spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, MARKER: marker } });
    let progress = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (progress += chunk));
    try {
      // Starting a judge process (tsx, engine init) takes seconds on a slow guest (the v2 VM under TCG).
      let seen: number[] = [];
      const deadline = Date.now() + 120_000;
      while (seen.length === 0 && child.exitCode === null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        seen = hostProcessesWith(marker);
      }
      assert.equal(seen.length, 1, `the run started (the judge got as far as: ${progress.trim() || "nothing"}; exit ${child.exitCode ?? child.signalCode ?? "none"})`);
      [supervisor] = supervisors(child.pid);
      assert.ok(supervisor, "the judge started a supervisor");
    } finally {
      child.kill("SIGKILL");
    }
    if (child.exitCode === null && child.signalCode === null) await new Promise((r) => child.once("exit", r));
    for (let i = 0; i < 500 && hostProcessesWith(marker).length > 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(hostProcessesWith(marker), [], "the run died with the judge");
    let alive = true;
    for (let i = 0; i < 500 && alive; i++) {
      try {
        alive = readFileSync(`/proc/${supervisor}/cmdline`, "latin1") === "sonocode-supervisor\0";
      } catch {
        alive = false;
      }
      if (alive) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(alive, false, "the supervisor died with the judge");
  });
});

describe("run output markers", () => {
  it("hands each run exactly its bytes, whatever the chunking", () => {
    const marker = Buffer.from("0123456789abcdefghijklmn");
    const runs = [Buffer.from("hello 01234"), Buffer.alloc(0), Buffer.concat([Buffer.from("x"), marker.subarray(0, 23)]), randomBytes(600)];
    const stream = Buffer.concat(runs.flatMap((r) => [r, marker]));
    for (const size of [1, 2, 7, 23, 24, 25, 100, stream.length]) {
      const got: Buffer[] = [];
      const marked = new MarkedStream();
      let index = 0;
      const next = () => {
        const parts: Buffer[] = [];
        got[index] = Buffer.alloc(0);
        const at = index;
        marked.expect(marker, (d) => {
          parts.push(d);
          got[at] = Buffer.concat(parts);
        }, () => {
          index++;
          if (index < runs.length) next();
        });
      };
      next();
      for (let i = 0; i < stream.length; i += size) marked.push(stream.subarray(i, i + size));
      assert.equal(index, runs.length, `all markers found with chunks of ${size}`);
      runs.forEach((r, i) => assert.ok(got[i]!.equals(r), `run ${i} with chunks of ${size}`));
      assert.equal(marked.stray, 0);
    }
  });
});
