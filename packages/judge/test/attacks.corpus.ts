// The attack corpus, engine-agnostic: each case is a hostile submission and what
// must hold afterwards. bwrap.attacks.test.ts runs it against the bwrap engine; a
// docker.attacks.test.ts runs the very same cases against docker:
//
//   defineAttackSuite({ engine: "docker", makeJudge: () => createJudge({ engine: "docker" }), makeEngine: () => createDockerEngine({}) });
//
// After every attack the same judge must still judge a normal submission, right and fast.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer, type Server } from "node:net";
import { after, before, describe, it } from "node:test";
import type { JudgeRequest, Verdict } from "@sonocode/contracts";
import { DEFAULT_ROOTFS, type Judge, type SandboxEngine } from "../src/index.js";
import { textSession } from "./run-text.js";

export interface AttackContext {
  /** A secret written on the host, at hostCanaryPaths; it must never show up in a verdict. */
  secret: string;
  hostCanaryPaths: string[];
  /** A host directory a planted symlink points at; it must survive cleanup. */
  hostCanaryDir: string;
  /** A TCP port on the host's 127.0.0.1 that must be unreachable. */
  tcpPort: number;
  tcpConnections: () => number;
  /** A string unique to this run, for spotting surviving processes on the host. */
  marker: string;
  /** Secrets placed in the judge process environment. */
  envSecrets: Record<string, string>;
  /** Host paths and figures nothing inside a sandbox may see: rootfs and work paths, the root block device, the RAM-derived devtmpfs size. */
  hostNeedles: string[];
}

export interface AttackCase {
  name: string;
  request: (ctx: AttackContext) => JudgeRequest;
  check: (verdict: Verdict, ctx: AttackContext) => void | Promise<void>;
  /** Upper bound on how long judging the attack may take. */
  maxMs?: number;
}

const SAFE = [{ input: "", output: "SAFE\n" }];

function assertNoLeak(verdict: Verdict, ctx: AttackContext): void {
  const text = JSON.stringify(verdict);
  assert.ok(!text.includes(ctx.secret), "the host canary leaked into the verdict");
  for (const value of Object.values(ctx.envSecrets)) assert.ok(!text.includes(value), "an environment secret leaked into the verdict");
}

function assertStatus(verdict: Verdict, allowed: Verdict["status"][]): void {
  assert.ok(allowed.includes(verdict.status), `expected ${allowed.join("/")}, got ${verdict.status}: ${verdict.message ?? ""} ${JSON.stringify(verdict.failedTest ?? verdict.compileOutput)?.slice(0, 600)}`);
}

/** Processes on the host whose command line carries the marker: must be none once a run is over. */
export function hostProcessesWith(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "latin1").includes(marker)) found.push(Number(entry));
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

export const ATTACKS: AttackCase[] = [
  {
    name: "fork bomb",
    request: () => ({ language: "C", source: `#include <unistd.h>\nint main(void){for(;;)fork();}`, tests: SAFE, timeLimitMs: 1000 }),
    check: (v) => assertStatus(v, ["TLE", "RE", "MLE"]),
    maxMs: 20_000,
  },
  {
    name: "memory bomb",
    request: () => ({ language: "PYTHON", source: `a = []\nwhile True:\n    a.append(bytearray(16 << 20))`, tests: SAFE, memoryLimitMb: 128 }),
    check: (v) => {
      assertStatus(v, ["MLE"]);
      assert.ok((v.memoryKb ?? 0) >= 100 * 1024, "peak memory near the limit is reported");
    },
  },
  {
    name: "infinite output",
    request: () => ({ language: "PYTHON", source: `import sys\nline = "x" * 65535 + "\\n"\nwhile True:\n    sys.stdout.write(line)`, tests: SAFE }),
    check: (v) => {
      assertStatus(v, ["OLE"]);
      assert.ok((v.failedTest?.actual.length ?? 0) < 16 * 1024, "displayed output is truncated");
    },
  },
  {
    name: "sleep past the limit",
    request: () => ({ language: "PYTHON", source: `import time\ntime.sleep(60)`, tests: SAFE, timeLimitMs: 500 }),
    check: (v) => {
      assertStatus(v, ["TLE"]);
      assert.ok((v.results[0]?.wallTimeMs ?? 0) >= 500);
    },
    maxMs: 10_000,
  },
  {
    name: "busy threads",
    request: () => ({
      language: "C",
      source: `#include <pthread.h>\nstatic void*spin(void*a){volatile unsigned long x=0;for(;;)x++;return a;}\nint main(void){pthread_t t[8];for(int i=0;i<8;i++)pthread_create(&t[i],0,spin,0);spin(0);}`,
      tests: SAFE,
      timeLimitMs: 1000,
    }),
    check: (v) => {
      assertStatus(v, ["TLE"]);
      // CPU time of every thread counts (on an idle 2-core host it reaches the limit in ~0.5 s wall).
      assert.ok((v.results[0]?.timeMs ?? 0) > 0);
    },
  },
  {
    name: "reading host files, /proc/1/environ and other work dirs",
    request: (ctx) => ({
      language: "PYTHON",
      source: [
        "import os, glob",
        `paths = ${JSON.stringify(["/etc/shadow", "/proc/1/environ", "/proc/self/environ", ...ctx.hostCanaryPaths])}`,
        "paths += glob.glob('/tmp/sonocode-judge/*/*') + glob.glob('/var/lib/docker/*') + glob.glob('/root/*')",
        "leaks = []",
        "for p in paths:",
        "    try:",
        "        data = open(p, 'rb').read()",
        "    except OSError:",
        "        continue",
        `    if p in ('/proc/1/environ', '/proc/self/environ'):`,
        `        if any(k.encode() in data for k in ${JSON.stringify(Object.keys(ctx.envSecrets))}): leaks.append(p)`,
        "    else:",
        "        leaks.append(p)",
        "box = sorted(os.listdir('/box'))",
        "print('LEAK ' + repr(leaks) if leaks else ('SAFE' if all(n.startswith('main') or n == '__pycache__' for n in box) else 'BOX ' + repr(box)))",
      ].join("\n"),
      tests: SAFE,
    }),
    check: (v, ctx) => {
      assertStatus(v, ["Success"]);
      assertNoLeak(v, ctx);
    },
  },
  {
    name: "environment holds no secrets",
    request: (ctx) => ({
      language: "PYTHON",
      source: `import os\nbad = [k for k in os.environ if k in ${JSON.stringify(Object.keys(ctx.envSecrets))}] + [k for k, v in os.environ.items() if v in ${JSON.stringify(Object.values(ctx.envSecrets))}]\nprint('LEAK' if bad else 'SAFE')`,
      tests: SAFE,
    }),
    check: (v, ctx) => {
      assertStatus(v, ["Success"]);
      assertNoLeak(v, ctx);
    },
  },
  {
    name: "network: the host's 127.0.0.1 is unreachable",
    request: (ctx) => ({
      language: "PYTHON",
      source: [
        "import socket",
        "ok = False",
        "for host in ('127.0.0.1', '10.0.2.2', '172.17.0.1', '8.8.8.8'):",
        "    try:",
        `        socket.create_connection((host, ${ctx.tcpPort} if host == '127.0.0.1' else 53), timeout=0.5).close()`,
        "        ok = True",
        "    except OSError:",
        "        pass",
        "print('LEAK' if ok else 'SAFE')",
      ].join("\n"),
      tests: SAFE,
    }),
    check: (v, ctx) => {
      assertStatus(v, ["Success"]);
      assert.equal(ctx.tcpConnections(), 0, "the host server saw a connection");
    },
  },
  {
    name: "writing outside the work dir",
    request: () => ({
      language: "PYTHON",
      source: [
        "wrote = []",
        "for p in ('/etc/pwned', '/usr/bin/pwned', '/pwned', '/box/pwned', '/box/main.py', '/proc/sys/kernel/pwned', '/run/pwned'):",
        "    try:",
        "        open(p, 'a').write('x')",
        "        wrote.append(p)",
        "    except OSError:",
        "        pass",
        "open('/tmp/allowed', 'w').write('fine')",
        "print('LEAK ' + repr(wrote) if wrote else 'SAFE')",
      ].join("\n"),
      tests: SAFE,
    }),
    check: (v) => assertStatus(v, ["Success"]),
  },
  {
    name: "files left in /tmp and /dev/shm are invisible to the next run",
    request: () => ({
      language: "PYTHON",
      source: [
        "import os",
        "seen = [p for p in ('/tmp/left-behind', '/dev/shm/left-behind') if os.path.exists(p)]",
        "for p in ('/tmp/left-behind', '/dev/shm/left-behind'):",
        "    open(p, 'w').write('x')",
        "print('LEAK' if seen else 'SAFE')",
      ].join("\n"),
      tests: [...SAFE, ...SAFE, ...SAFE],
    }),
    check: (v) => {
      assertStatus(v, ["Success"]);
      assert.equal(v.passed, 3);
    },
  },
  {
    name: "kill(-1)",
    request: () => ({ language: "PYTHON", source: `import os, signal\nos.kill(-1, signal.SIGKILL)\nprint('SAFE')`, tests: SAFE }),
    // bwrap: the program's own supervisor shares its uid, so kill(-1) ends the run (RE).
    // docker: nothing else runs as the program's uid and Linux never signals the caller,
    // so it prints SAFE (Success). Either way the judge survives and the next run is normal.
    check: (v) => assertStatus(v, ["RE", "Success"]),
  },
  {
    name: "killing its parent",
    request: () => ({ language: "PYTHON", source: `import os, signal, time\nos.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(0.5)\nprint('SAFE')`, tests: SAFE }),
    // Its supervisor is gone, so the run ends; whatever the program printed, it must not crash the judge.
    check: (v) => assertStatus(v, ["RE", "Success", "TLE"]),
  },
  {
    name: "SIGSTOP on itself",
    request: () => ({ language: "PYTHON", source: `import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)\nprint('SAFE')`, tests: SAFE, timeLimitMs: 500 }),
    check: (v) => assertStatus(v, ["TLE"]),
    maxMs: 10_000,
  },
  {
    name: "a double-forked daemon does not outlive the run",
    request: (ctx) => ({
      language: "PYTHON",
      source: [
        "import os",
        "if os.fork() == 0:",
        "    os.setsid()",
        "    if os.fork() == 0:",
        "        os.closerange(0, 3)",
        `        os.execv('/bin/sleep', ['sleep', '${ctx.marker}'])`,
        "    os._exit(0)",
        "os.wait()",
        "print('SAFE')",
      ].join("\n"),
      tests: SAFE,
    }),
    check: async (v, ctx) => {
      assertStatus(v, ["Success"]);
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(hostProcessesWith(ctx.marker), [], "a sandboxed process survived the run");
    },
  },
  {
    name: "disk fill in /tmp and /dev/shm",
    request: () => ({
      language: "PYTHON",
      source: [
        "chunk = b'x' * (1 << 20)",
        "for d in ('/tmp', '/dev/shm'):",
        "    try:",
        "        with open(d + '/fill', 'wb') as f:",
        "            for _ in range(4096):",
        "                f.write(chunk)",
        "                f.flush()",
        "    except OSError:",
        "        pass",
        "print('SAFE')",
      ].join("\n"),
      tests: SAFE,
    }),
    // Filling stops at the tmpfs size cap (ENOSPC/EFBIG) or the memory limit: never on the host disk.
    check: (v) => assertStatus(v, ["Success", "MLE", "RE"]),
  },
  {
    name: "compile: #include of host secrets",
    request: (ctx) => ({
      language: "C",
      source: [`#include "/etc/shadow"`, ...ctx.hostCanaryPaths.map((p) => `#include "${p}"`), "int main(void){return 0;}"].join("\n"),
      tests: SAFE,
    }),
    check: (v, ctx) => {
      assertStatus(v, ["CE"]);
      assertNoLeak(v, ctx);
      assert.ok(!/root:[^\n]*:\d+:/.test(v.compileOutput ?? ""), "shadow entries leaked");
    },
  },
  {
    name: "compile: #include </dev/random>",
    request: () => ({ language: "CPP", source: `#include </dev/random>\nint main(){}`, tests: SAFE }),
    check: (v) => {
      assertStatus(v, ["CE"]);
      assert.ok((v.compileOutput?.length ?? 0) <= 70 * 1024, "compiler output is capped");
    },
    maxMs: 40_000,
  },
  {
    name: "compile: template explosion",
    request: () => ({
      language: "CPP",
      source: `template<int N> struct F { static const int v = F<N-1>::v + F<N-2>::v + F<N-3>::v; };\ntemplate<> struct F<0>{static const int v=1;};template<> struct F<1>{static const int v=1;};template<> struct F<2>{static const int v=1;};\nint main(){ return F<100000>::v; }`,
      tests: SAFE,
    }),
    check: (v) => {
      assertStatus(v, ["CE"]);
      assert.ok((v.compileOutput?.length ?? 0) <= 70 * 1024, "compiler output is capped");
    },
    maxMs: 40_000,
  },
  {
    name: "compile: macro explosion",
    request: () => ({
      language: "C",
      source: [
        "#define A0 x x x x x x x x x x",
        ...Array.from({ length: 12 }, (_, i) => `#define A${i + 1} A${i} A${i} A${i} A${i} A${i} A${i} A${i} A${i} A${i} A${i}`),
        "int main(void){ A12; return 0; }",
      ].join("\n"),
      tests: SAFE,
    }),
    check: (v) => {
      assertStatus(v, ["CE"]);
      assert.ok((v.compileOutput?.length ?? 0) <= 70 * 1024, "compiler output is capped");
    },
    maxMs: 40_000,
  },
  {
    name: "supervisors are out of reach: /proc/<pid>/mem, fds, ptrace and signals on every other process",
    request: () => ({
      language: "PYTHON",
      source: [
        "import ctypes, os, signal",
        "libc = ctypes.CDLL(None, use_errno=True)",
        "me = os.getpid()",
        "reached = []",
        "for p in [int(p) for p in os.listdir('/proc') if p.isdigit() and int(p) != me]:",
        "    for path, mode in ((f'/proc/{p}/mem', os.O_RDWR), (f'/proc/{p}/mem', os.O_RDONLY), (f'/proc/{p}/environ', os.O_RDONLY)):",
        "        try:",
        "            os.close(os.open(path, mode))",
        "            reached.append(path)",
        "        except OSError:",
        "            pass",
        "    try:",
        "        for fd in os.listdir(f'/proc/{p}/fd'):",
        "            try:",
        // A forged status line, were the supervisor's status fd reachable.
        "                w = os.open(f'/proc/{p}/fd/{fd}', os.O_WRONLY | os.O_NONBLOCK)",
        "                os.write(w, b'exit 0 1\\n')",
        "                reached.append(f'fd {p}/{fd}')",
        "            except OSError:",
        "                pass",
        "    except OSError:",
        "        pass",
        "    if libc.ptrace(16, p, 0, 0) == 0: reached.append(f'ptrace {p}')",
        "    for sig in (signal.SIGSTOP, signal.SIGKILL):",
        "        try:",
        "            os.kill(p, sig)",
        "        except OSError:",
        "            pass",
        "print('REACHED ' + repr(reached) if reached else 'SAFE')",
        "raise SystemExit(3)",
      ].join("\n"),
      tests: SAFE,
    }),
    // The program's own exit status (3) must reach the verdict: RE with output SAFE, never IE or Success.
    check: (v) => {
      assertStatus(v, ["RE"]);
      assert.equal(v.failedTest?.actual, "SAFE\n", JSON.stringify(v.failedTest));
    },
  },
  {
    name: "no host path, device or RAM size in /proc/*/{cmdline,mountinfo,environ,cgroup} or /proc/self/mounts",
    request: (ctx) => ({
      language: "PYTHON",
      source: [
        "import os",
        `needles = ${JSON.stringify(ctx.hostNeedles)}`,
        "files = ['/proc/self/mounts', '/proc/self/mountinfo']",
        "for p in os.listdir('/proc'):",
        "    if p.isdigit() or p in ('self', 'thread-self'):",
        "        files += [f'/proc/{p}/{n}' for n in ('cmdline', 'mountinfo', 'environ', 'cgroup')]",
        "found = []",
        "for f in files:",
        "    try:",
        "        data = open(f, 'rb').read().decode('latin1')",
        "    except OSError:",
        "        continue",
        "    found += [f + ': ' + n for n in needles if n in data]",
        "print('LEAK ' + repr(sorted(set(found))) if found else 'SAFE')",
      ].join("\n"),
      tests: SAFE,
    }),
    check: (v) => assertStatus(v, ["Success"]),
  },
  {
    name: "compile: #include of /proc files shows no host path",
    request: () => ({
      language: "C",
      source: ["/proc/self/mountinfo", "/proc/self/mounts", "/proc/1/cmdline", "/proc/self/cgroup", "/proc/1/environ"].map((p) => `#include "${p}"`).join("\n") + "\nint main(void){return 0;}",
      tests: SAFE,
    }),
    check: (v, ctx) => {
      assertStatus(v, ["CE"]);
      for (const needle of ctx.hostNeedles) assert.ok(!(v.compileOutput ?? "").includes(needle), `compile output shows ${needle}`);
    },
  },
  {
    name: "IPC objects (SysV shm/sem/msg, POSIX shm and mqueue) do not survive a test",
    request: () => ({
      language: "PYTHON",
      source: [
        "import ctypes, os",
        "libc = ctypes.CDLL(None, use_errno=True)",
        "seen = [n for n, ok in (('shm', libc.shmget(0x50c0, 0, 0) >= 0), ('sem', libc.semget(0x50c1, 0, 0) >= 0), ('msg', libc.msgget(0x50c2, 0) >= 0), ('mq', libc.mq_open(b'/sonocode-q', os.O_RDONLY) >= 0), ('posix', os.path.exists('/dev/shm/sonocode-posix'))) if ok]",
        "made = libc.shmget(0x50c0, 4096, 0o1600) >= 0 and libc.semget(0x50c1, 1, 0o1600) >= 0 and libc.msgget(0x50c2, 0o1600) >= 0 and libc.mq_open(b'/sonocode-q', os.O_CREAT | os.O_RDWR, 0o600, None) >= 0",
        "open('/dev/shm/sonocode-posix', 'w').write('x')",
        "print('SAFE' if made and not seen else 'LEAK ' + repr(seen) + ' ' + repr(made))",
      ].join("\n"),
      tests: [...SAFE, ...SAFE, ...SAFE],
    }),
    check: (v) => {
      assertStatus(v, ["Success"]);
      assert.equal(v.passed, 3);
    },
  },
];

const AB: JudgeRequest = {
  language: "PYTHON",
  source: "a, b = map(int, input().split())\nprint(a + b)",
  tests: [
    { input: "2 3\n", output: "5\n" },
    { input: "10 -4\n", output: "6\n" },
  ],
};

export interface AttackSuiteOptions {
  engine: "bwrap" | "docker";
  makeJudge: () => Promise<Judge>;
  /** The bare engine, for the host-side symlink test. */
  makeEngine: () => SandboxEngine;
}

/** What the host knows about itself that no sandbox may show: see AttackContext.hostNeedles. */
function hostNeedles(): string[] {
  const needles = [realpathSync(DEFAULT_ROOTFS), "/var/lib/sonocode", join(tmpdir(), "sonocode-judge"), "/var/lib/docker/containers", "docker-init", "tini-static"];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const [left, right] = line.split(" - ");
    const fields = left?.split(" ") ?? [];
    const [, source, options] = right?.split(" ") ?? [];
    // The host root's block device, and devtmpfs's size (derived from the RAM size).
    if (fields[4] === "/" && source?.startsWith("/dev/")) needles.push(source);
    if (right?.startsWith("devtmpfs")) {
      const size = /size=\d+k/.exec(options ?? "")?.[0];
      if (size) needles.push(size);
    }
  }
  return needles;
}

function createContext(): { ctx: AttackContext; cleanup: () => void; server: Server } {
  const secret = `canary-${randomBytes(12).toString("hex")}`;
  const hostCanaryDir = `/tmp/sonocode-canary-dir-${randomBytes(4).toString("hex")}`;
  const hostCanaryPaths = [`/tmp/sonocode-canary-${randomBytes(4).toString("hex")}`, `/root/sonocode-canary-${randomBytes(4).toString("hex")}`];
  for (const p of hostCanaryPaths) writeFileSync(p, `${secret}\n`, { mode: 0o644 });
  mkdirSync(hostCanaryDir);
  writeFileSync(`${hostCanaryDir}/keep.txt`, secret);
  const envSecrets = {
    JWT_SECRET: `jwt-${randomBytes(8).toString("hex")}`,
    REDIS_URL: `redis://:${randomBytes(8).toString("hex")}@127.0.0.1:6379`,
    DATABASE_URL: `postgres://u:${randomBytes(8).toString("hex")}@127.0.0.1/db`,
  };
  const previous = Object.fromEntries(Object.keys(envSecrets).map((k) => [k, process.env[k]]));
  Object.assign(process.env, envSecrets);
  let connections = 0;
  const server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  const ctx: AttackContext = {
    secret,
    hostCanaryPaths,
    hostCanaryDir,
    tcpPort: 0,
    tcpConnections: () => connections,
    marker: `31.${Date.now()}${randomBytes(3).readUIntBE(0, 3)}`,
    envSecrets,
    hostNeedles: hostNeedles(),
  };
  const cleanup = () => {
    for (const p of hostCanaryPaths) rmSync(p, { force: true });
    rmSync(hostCanaryDir, { recursive: true, force: true });
    for (const [k, v] of Object.entries(previous)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    server.close();
  };
  return { ctx, cleanup, server };
}

/** Registers the attack suite with node:test for one engine. */
export function defineAttackSuite(options: AttackSuiteOptions): void {
  describe(`attack corpus (${options.engine})`, () => {
    let judge: Judge;
    let ctx: AttackContext;
    let cleanup: () => void;

    before(async () => {
      const made = createContext();
      ctx = made.ctx;
      cleanup = made.cleanup;
      await new Promise<void>((resolve) => made.server.listen(0, "127.0.0.1", resolve));
      const address = made.server.address();
      ctx.tcpPort = typeof address === "object" && address ? address.port : 0;
      judge = await options.makeJudge();
      assert.equal(judge.engine, options.engine);
    });
    after(async () => {
      await judge?.close();
      cleanup?.();
    });

    for (const attack of ATTACKS) {
      it(attack.name, async () => {
        const started = Date.now();
        const verdict = await judge.judge(attack.request(ctx));
        const took = Date.now() - started;
        await attack.check(verdict, ctx);
        assert.ok(took <= (attack.maxMs ?? 15_000), `judging the attack took ${took} ms`);
        assert.notEqual(verdict.status, "IE", "an attack must never look like an engine failure");

        // The judge still works, right and promptly.
        const t0 = Date.now();
        const normal = await judge.judge(AB);
        assert.equal(normal.status, "Success", JSON.stringify(normal));
        assert.equal(normal.passed, 2);
        assert.ok(Date.now() - t0 < 10_000, "a normal submission after the attack was slow");
        assert.deepEqual(hostProcessesWith(ctx.marker), []);
      });
    }

    it("host side never follows symlinks planted in the work dir", async () => {
      const engine = options.makeEngine();
      await engine.check();
      const session = textSession(await engine.open());
      try {
        const planted = await session.run({
          argv: ["/usr/bin/python3", "-c", `import os\nos.symlink(${JSON.stringify(ctx.hostCanaryDir)}, '/box/link')\nos.symlink(${JSON.stringify(ctx.hostCanaryPaths[0])}, '/box/main.py')\nos.symlink('/etc/passwd', '/box/out.txt')`],
          stdin: "",
          limits: { cpuTimeMs: 2000, wallTimeMs: 5000, memoryBytes: 128 << 20, outputBytes: 1 << 20, processes: 16, fileSizeBytes: 1 << 20 },
          writableWorkDir: true,
        });
        assert.equal(planted.exitCode, 0, planted.stderr);
        // Writing a file whose name is a planted symlink must fail, not write through it.
        await assert.rejects(session.writeFile("main.py", "print('overwritten')"));
        assert.equal(readFileSync(ctx.hostCanaryPaths[0]!, "utf8"), `${ctx.secret}\n`);
      } finally {
        await session.dispose();
        await engine.close();
      }
      // Cleanup removed the links, not what they point at.
      assert.ok(existsSync(`${ctx.hostCanaryDir}/keep.txt`), "dispose followed a symlink into a host directory");
      assert.ok(existsSync("/etc/passwd"));
    });

    it("concurrent submissions cannot see each other", async () => {
      const victim = judge.judge({
        language: "PYTHON",
        source: `import time\nSECRET = ${JSON.stringify(ctx.secret)}\ntime.sleep(1.5)\nprint('SAFE')`,
        tests: SAFE,
        timeLimitMs: 2000,
      });
      await new Promise((r) => setTimeout(r, 300));
      const spy = await judge.judge({
        language: "PYTHON",
        source: [
          "import os",
          "found = []",
          "for root in ('/box', '/tmp', '/proc'):",
          "    for dirpath, dirs, files in os.walk(root):",
          "        if dirpath.startswith('/proc/') and dirpath.count('/') > 2: continue",
          "        for f in files:",
          "            try:",
          // The needle is stored reversed so the spy's own source never matches.
          `                if ${JSON.stringify([...ctx.secret].reverse().join(""))}[::-1].encode() in open(os.path.join(dirpath, f), 'rb').read(1 << 20): found.append(os.path.join(dirpath, f))`,
          "            except OSError:",
          "                pass",
          "pids = [p for p in os.listdir('/proc') if p.isdigit()]",
          "print('LEAK ' + repr(found) + repr(pids) if found or len(pids) > 4 else 'SAFE')",
        ].join("\n"),
        tests: SAFE,
      });
      assertStatus(spy, ["Success"]);
      assertStatus(await victim, ["Success"]);
    });
  });
}
