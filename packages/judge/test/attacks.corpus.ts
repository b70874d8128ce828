// The attack corpus, engine-agnostic: each case is a hostile submission and what
// must hold afterwards. attacks.suite.ts runs it against one engine
// (bwrap.attacks.test.ts, docker.attacks.test.ts); after every attack the same judge
// must still judge a normal submission, right and fast.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import type { JudgeRequest, Verdict } from "@sonocode/contracts";

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

export const SAFE = [{ input: "", output: "SAFE\n" }];

function assertNoLeak(verdict: Verdict, ctx: AttackContext): void {
  const text = JSON.stringify(verdict);
  assert.ok(!text.includes(ctx.secret), "the host canary leaked into the verdict");
  for (const value of Object.values(ctx.envSecrets)) assert.ok(!text.includes(value), "an environment secret leaked into the verdict");
}

export function assertStatus(verdict: Verdict, allowed: Verdict["status"][]): void {
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
    // bwrap: the only other process in the program's pid namespace is its run init (pid 1,
    // root), which kill(-1) skips, so nothing is signalled and the call fails with ESRCH
    // (Python raises: RE). docker: nothing else runs as the program's uid and Linux never
    // signals the caller, so it prints SAFE (Success). Either way the judge survives and the
    // next run is normal.
    check: (v) => assertStatus(v, ["RE", "Success"]),
  },
  {
    name: "killing its parent",
    request: () => ({ language: "PYTHON", source: `import os, signal, time\nos.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(0.5)\nprint('SAFE')`, tests: SAFE }),
    // bwrap: the parent is the run init (pid 1, root), so the kill fails with EPERM (Python
    // raises: RE). Where the kill lands, the run ends with its supervisor. Whatever the
    // program printed, it must not crash the judge.
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
        // seccomp denies setsid (a new session would be a new autogroup at nice 0): a process group of its own then.
        "    try:",
        "        os.setsid()",
        "    except PermissionError:",
        "        os.setpgid(0, 0)",
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
    // Docker's default /sys (read-only sysfs) lists the host's block devices, NICs, memory blocks and CPUs.
    name: "/sys shows nothing of the host (no sysfs inside)",
    request: () => ({
      language: "PYTHON",
      source: [
        "import os",
        "try:",
        "    entries = sorted(os.listdir('/sys'))",
        "except FileNotFoundError:",
        "    entries = []",
        "sysfs = [l for l in open('/proc/self/mountinfo') if ' - sysfs ' in l]",
        "print('SYS ' + repr((entries[:12], sysfs)) if entries or sysfs else 'SAFE')",
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
