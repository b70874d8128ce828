// The docker sandbox engine through the SandboxEngine seam: hardening of the
// container, per-run limits and measurements, and that nothing survives a run.
// Needs a Docker daemon and the sonocode-runtime image (scripts/runtime/docker-image.sh);
// skips with the reason when there is none.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Docker from "dockerode";
import { createDockerEngine } from "../src/engines/docker/engine.js";
import type { RunLimits, RunSpec, SandboxEngine, SandboxSession } from "../src/sandbox/sandbox.js";
import { dockerSkipReason } from "./docker.availability.js";
import { textSession, type TextSession } from "./run-text.js";

const docker = new Docker();
const engine: SandboxEngine = createDockerEngine({ docker });
const unavailable = await dockerSkipReason(engine);

const MiB = 1024 * 1024;
const LIMITS: RunLimits = { cpuTimeMs: 2_000, wallTimeMs: 5_000, memoryBytes: 128 * MiB, outputBytes: MiB, processes: 16, fileSizeBytes: 16 * MiB };
const COMPILE: RunLimits = { cpuTimeMs: 10_000, wallTimeMs: 30_000, memoryBytes: 1024 * MiB, outputBytes: 64 * 1024, processes: 64, fileSizeBytes: 256 * MiB };
/** For cases whose subject is not time (memory, IPC, output): room for a slow host or an emulated guest (npm run test:vm -- --docker). */
const ROOMY: RunLimits = { ...LIMITS, cpuTimeMs: 30_000, wallTimeMs: 60_000 };
const sh = (script: string, more: Partial<RunSpec> = {}): RunSpec => ({ argv: ["/bin/sh", "-c", script], stdin: "", limits: LIMITS, ...more });
const py = (code: string, limits: Partial<RunLimits> = {}): RunSpec => ({ argv: ["/usr/bin/python3", "-c", code], stdin: "", limits: { ...ROOMY, ...limits } });

async function sessionContainers(): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: ["org.sonocode.judge=session"] } });
  return list.map((c) => c.Id);
}

describe("docker engine", { skip: unavailable ?? false }, () => {
  let session: TextSession;
  let containerId: string;

  before(async () => {
    const known = new Set(await sessionContainers());
    session = textSession(await engine.open());
    const fresh = (await sessionContainers()).filter((id) => !known.has(id));
    assert.ok(fresh[0], "open() created a container");
    containerId = fresh[0];
  });
  after(async () => {
    await session?.dispose();
    await engine.close();
  });

  test("the container is hardened (network none, read-only root, no caps, limits)", async () => {
    const info = await docker.getContainer(containerId).inspect();
    const hc = info.HostConfig;
    assert.equal(hc.NetworkMode, "none");
    assert.equal(hc.ReadonlyRootfs, true);
    assert.deepEqual(hc.CapDrop, ["ALL"]);
    assert.ok(hc.SecurityOpt?.includes("no-new-privileges"));
    assert.equal(hc.Memory, hc.MemorySwap, "no swap");
    assert.ok((hc.PidsLimit ?? 0) > 0);
    assert.ok((hc.NanoCpus ?? 0) > 0);
    assert.equal(hc.Privileged, false);
    const ulimits = new Map((hc.Ulimits ?? []).map((u) => [u.Name, u]));
    assert.equal(ulimits.get("core")?.Hard, 0);
    assert.ok(ulimits.get("nofile") && ulimits.get("fsize"));
    assert.match(hc.Tmpfs?.["/box"] ?? "", /size=\d+/);
    assert.match(hc.Tmpfs?.["/tmp"] ?? "", /size=\d+/);
    assert.notEqual(info.Config.User, "", "init is not root");
    assert.notEqual(info.Config.User, "0");
  });

  test("programs run unprivileged, without network, on a read-only root", async () => {
    const out = await session.run(
      sh("id -u; grep -E '^(CapEff|NoNewPrivs)' /proc/self/status; cat /proc/net/dev | tail -n +3 | cut -d: -f1; touch /etc/x 2>/dev/null && echo rootfs-writable; touch /box/w && echo box-writable", { limits: ROOMY }),
    );
    assert.equal(out.exitCode, 0, out.stderr);
    const lines = out.stdout.split("\n").map((l) => l.trim());
    assert.equal(lines[0], "65534");
    assert.ok(lines.includes("CapEff:\t0000000000000000".trim()) || out.stdout.includes("0000000000000000"));
    assert.match(out.stdout, /NoNewPrivs:\s+1/);
    assert.ok(!out.stdout.includes("eth0"), "no network interface but lo");
    assert.ok(!out.stdout.includes("rootfs-writable"));
    assert.ok(out.stdout.includes("box-writable"));
  });

  test("mountinfo shows no host path: the root is our own overlay with relative layer names; /sys is an empty tmpfs", async () => {
    const out = await session.run(sh("cat /proc/self/mountinfo; echo ---; cat /proc/1/mountinfo; echo ---; cat /proc/self/mounts; echo ---; ls -A /sys | wc -l", { limits: ROOMY }));
    assert.equal(out.exitCode, 0, out.stderr);
    const [mountinfo = "", initMountinfo = "", mounts = "", sysCount = ""] = out.stdout.split("---\n");
    assert.equal(sysCount.trim(), "0", "nothing under /sys");
    assert.equal(initMountinfo, mountinfo, "the init and every exec share one mount namespace");
    const lines = mountinfo.trim().split("\n");
    for (const line of lines) {
      const [left = "", right = ""] = line.split(" - ");
      const [, , , root = "", mountPoint = ""] = left.split(" ");
      const [fstype = "", source = "", options = ""] = right.split(" ");
      // A mount's root is a path inside its filesystem: on a disk (Docker's own /etc/hosts bind from
      // /var/lib/docker/containers/<id>) that is a host path. Binds within proc or a tmpfs (runc's masked and
      // read-only /proc paths, our own tmpfs's init and /etc files) show nothing of the host.
      if (root !== "/") assert.ok(fstype === "proc" || fstype === "tmpfs", `a host dir as a mount's root: ${line}`);
      if (root !== "/" && fstype === "tmpfs" && source !== "tmpfs") assert.match(source, /^sonocode-/, line);
      if (mountPoint === "/sys") assert.equal(fstype, "tmpfs", line);
      assert.notEqual(fstype, "sysfs", line);
      assert.notEqual(fstype, "cgroup", line);
      // No absolute path in any mount's options (Docker's overlay2 root had lowerdir/upperdir/workdir).
      const paths = options.split(/[,=:]/).filter((part) => part.startsWith("/"));
      assert.deepEqual(paths, [], `a host path in the mount options: ${line}`);
    }
    const root = lines.find((line) => line.split(" ")[4] === "/") ?? "";
    assert.match(root, / - overlay sonocode-root ro,.*lowerdir=r:e/, root);
    const dataRoot = ((await docker.info()) as { DockerRootDir?: string }).DockerRootDir ?? "/var/lib/docker";
    for (const text of [mountinfo, mounts]) {
      assert.ok(!text.includes(dataRoot) && !text.includes("overlay2"), "Docker's data root is not named");
    }
    // The view is still the image: read-only, with /box and /tmp writable tmpfs.
    const probe = await session.run(sh("touch /usr/x 2>/dev/null && echo root-writable; touch /box/.rv /tmp/.rv && rm /box/.rv /tmp/.rv && echo scratch-ok; test -x /usr/bin/gcc && echo image-ok", { limits: ROOMY }));
    assert.equal(probe.stdout, "scratch-ok\nimage-ok\n", probe.stderr);
  });

  test("the environment is PATH/HOME/LANG plus the run's env", async () => {
    const out = await session.run(sh("env | sort", { env: { FOO: "bar" } }));
    const names = out.stdout.split("\n").filter(Boolean).map((l) => l.split("=")[0]);
    for (const n of ["PATH", "HOME", "LANG", "FOO"]) assert.ok(names.includes(n), n);
    assert.ok(out.stdout.includes("FOO=bar"));
    const unexpected = names.filter((n) => !["PATH", "HOME", "LANG", "FOO", "HOSTNAME", "PWD"].includes(n ?? ""));
    assert.deepEqual(unexpected, []);
  });

  test("compile once, run many: artefacts persist, stdin goes through the exec stream", async () => {
    await session.writeFile("main.c", '#include <stdio.h>\nint main(void){long long a,b;if(scanf("%lld %lld",&a,&b)!=2)return 1;printf("%lld\\n",a+b);return 0;}\n');
    const compile = await session.run({ argv: ["/usr/bin/gcc", "-O2", "-o", "/box/main", "/box/main.c"], stdin: "", limits: COMPILE });
    assert.equal(compile.exitCode, 0, compile.stderr);
    for (const [input, want] of [["1 2\n", "3\n"], ["40 2", "42\n"], ["-5 5\n", "0\n"]] as const) {
      const out = await session.run({ argv: ["/box/main"], stdin: input, limits: LIMITS, writableWorkDir: false });
      assert.equal(out.stdout, want);
      assert.equal(out.exitCode, 0);
      assert.equal(out.limit, null);
      assert.ok(out.cpuTimeMs >= 0 && out.cpuTimeMs < 200, `cpu ${out.cpuTimeMs}`);
      assert.ok(out.wallTimeMs >= 0 && out.wallTimeMs < 3_000, `wall ${out.wallTimeMs}`);
      assert.ok(out.memoryKb < 16 * 1024, `memory ${out.memoryKb}`);
    }
  });

  test("a read-only run cannot change the work dir but can run its artefacts", async () => {
    const out = await session.run(sh("touch /box/x 2>&1 || echo denied; rm -f /box/main 2>&1 || true; test -x /box/main && echo still-there", { writableWorkDir: false }));
    assert.match(out.stdout, /denied/);
    assert.match(out.stdout, /still-there/);
  });

  test("big stdin and stdout pass intact", async () => {
    const input = "0123456789abcdef\n".repeat(300_000); // 5.1 MB
    const out = await session.run({ argv: ["/bin/cat"], stdin: input, limits: { ...ROOMY, outputBytes: 8 * MiB } });
    assert.equal(out.exitCode, 0);
    assert.equal(out.stdout.length, input.length);
    assert.equal(out.stdout, input);
  });

  test("exit codes and signals", async () => {
    const three = await session.run(sh("echo err >&2; exit 3"));
    assert.equal(three.exitCode, 3);
    assert.equal(three.signal, null);
    assert.equal(three.stderr, "err\n");
    const segv = await session.run(sh("kill -SEGV $$"));
    assert.equal(segv.exitCode, null);
    assert.equal(segv.signal, "SIGSEGV");
    assert.equal(segv.limit, null);
  });

  test("CPU time limit: a busy loop is killed, limit time", async () => {
    // A generous wall limit: on a loaded CI host the loop may get a fraction of a core.
    const out = await session.run(py("while True: pass", { cpuTimeMs: 500, wallTimeMs: 30_000 }));
    assert.equal(out.limit, "time");
    assert.ok(out.cpuTimeMs >= 500 && out.cpuTimeMs < 1_500, `cpu ${out.cpuTimeMs}`);
  });

  test("wall time limit: a sleeper is killed, limit wall", async () => {
    const started = performance.now();
    const out = await session.run(sh("sleep 30", { limits: { ...LIMITS, wallTimeMs: 700 } }));
    assert.equal(out.limit, "wall");
    assert.ok(out.cpuTimeMs < 200);
    assert.ok(performance.now() - started < 6_000);
  });

  test("memory is measured per run from the cgroup; over the limit is limit memory", async () => {
    const fits = await session.run(py("x = bytearray(60 * 1024 * 1024); print(len(x))", { memoryBytes: 128 * MiB }));
    assert.equal(fits.limit, null, fits.stderr);
    assert.ok(fits.memoryKb > 60 * 1024 && fits.memoryKb < 100 * 1024, `memory ${fits.memoryKb}`);
    const small = await session.run(py("print(1)", { memoryBytes: 128 * MiB }));
    assert.ok(small.memoryKb < 40 * 1024, `peak of a previous run leaked into this one: ${small.memoryKb}`);
    const over = await session.run(py("x = bytearray(200 * 1024 * 1024); print(len(x))", { memoryBytes: 64 * MiB }));
    assert.equal(over.limit, "memory");
    assert.equal(over.stdout, "");
    // The same session goes on with a bigger limit (compile-sized runs after test-sized ones).
    const bigger = await session.run(py("x = bytearray(200 * 1024 * 1024); print(len(x))", { memoryBytes: 300 * MiB }));
    assert.equal(bigger.limit, null, bigger.stderr);
    assert.equal(bigger.stdout, `${200 * MiB}\n`);
  });

  test("each run's memory limit is its own: page cache left by earlier runs counts neither against nor for it", async () => {
    // ~200 MiB of page cache charged to the container by an earlier (compile-like) run.
    const warm = await session.run(sh("cat /usr/lib/x86_64-linux-gnu/libLLVM-14.so.1 /usr/lib/jvm/java-17-openjdk-amd64/lib/modules > /dev/null && echo warm", { limits: { ...LIMITS, memoryBytes: 1024 * MiB, cpuTimeMs: 30_000, wallTimeMs: 60_000 } }));
    // Reading ~200 MiB from a cold disk on a busy host can take seconds: this run only prepares the cache.
    assert.equal(warm.stdout, "warm\n", `${warm.limit ?? "no limit hit"}, ${warm.wallTimeMs} ms: ${warm.stderr}`);
    // Were the cache part of the baseline, the kernel would reclaim it for this program and let it go ~200 MiB over its limit.
    const over = await session.run(py("x = bytearray(120 * 1024 * 1024); print(len(x))", { memoryBytes: 64 * MiB }));
    assert.equal(over.limit, "memory", `peak ${over.memoryKb} KiB, exit ${over.exitCode ?? over.signal}`);
    const fits = await session.run(py("x = bytearray(40 * 1024 * 1024); print(len(x))", { memoryBytes: 128 * MiB }));
    assert.equal(fits.limit, null, fits.stderr);
    assert.ok(fits.memoryKb > 40 * 1024 && fits.memoryKb < 70 * 1024, `reported memory is the run's own: ${fits.memoryKb} KiB`);
  });

  test("each run gets fresh IPC state: SysV shm, semaphores, message queues, POSIX shm and mqueues", async () => {
    const script = [
      "import ctypes, os",
      "libc = ctypes.CDLL(None, use_errno=True)",
      "libc.mq_open.restype = ctypes.c_int",
      "seen = []",
      "if libc.shmget(0x50c0, 0, 0) >= 0: seen.append('shm')",
      "if libc.semget(0x50c1, 0, 0) >= 0: seen.append('sem')",
      "if libc.msgget(0x50c2, 0) >= 0: seen.append('msg')",
      "if libc.mq_open(b'/sonocode-q', os.O_RDONLY) >= 0: seen.append('mq')",
      "if os.path.exists('/dev/shm/sonocode-posix'): seen.append('posix-shm')",
      "ok = libc.shmget(0x50c0, 4096, 0o1600) >= 0 and libc.semget(0x50c1, 1, 0o1600) >= 0 and libc.msgget(0x50c2, 0o1600) >= 0",
      "ok = ok and libc.mq_open(b'/sonocode-q', os.O_CREAT | os.O_RDWR, 0o600, None) >= 0",
      "open('/dev/shm/sonocode-posix', 'w').write('x')",
      "print('seen', seen, 'made', ok)",
    ].join("\n");
    for (const writableWorkDir of [false, false, false]) {
      const out = await session.run({ ...py(script), writableWorkDir });
      assert.equal(out.stdout, "seen [] made True\n", out.stderr);
    }
  });

  test("output limit: a flood is cut and killed, limit output", async () => {
    const out = await session.run(py("import sys\nwhile True: sys.stdout.write('x' * 65536)", { outputBytes: 64 * 1024 }));
    assert.equal(out.limit, "output");
    assert.ok(out.stdout.length <= 64 * 1024);
    assert.ok(out.stdout.length > 0);
  });

  test("file size limit: RLIMIT_FSIZE per run", async () => {
    const out = await session.run(sh("head -c 2000000 /dev/zero > /box/big; echo $?", { limits: { ...LIMITS, fileSizeBytes: 1_000_000 } }));
    assert.notEqual(out.stdout.trim(), "0");
  });

  test("nothing survives a run: background and double-forked processes are killed", async () => {
    const t0 = performance.now();
    await session.run(sh("echo plain"));
    const plainMs = performance.now() - t0;
    const started = performance.now();
    // No setsid: seccomp refuses it (a session of its own would leave SANDBOX_NICE's autogroup); the nested double fork stays.
    const spawn = await session.run(sh("(sleep 300 &) ; (sh -c 'sleep 301 & sleep 302' &) ; nohup sleep 303 >/dev/null 2>&1 & echo spawned"));
    assert.equal(spawn.stdout, "spawned\n");
    // A leftover holding the exec's stdio must not stall the run (the daemon would wait ~2 s for it).
    const tookMs = performance.now() - started;
    assert.ok(tookMs < plainMs + 1_500, `run took ${tookMs} ms, a plain one ${plainMs} ms`);
    const ps = await session.run(sh("for p in /proc/[0-9]*; do tr '\\0' ' ' < $p/cmdline 2>/dev/null; echo; done"));
    assert.doesNotMatch(ps.stdout, /sleep 30[0-3]/);
  });

  test("/tmp and /dev/shm: compile leftovers stay, a test's leftovers are gone for the next test", async () => {
    const compile = await session.run(sh("echo artefact > /tmp/from-compile && echo ok"));
    assert.equal(compile.stdout, "ok\n");
    const first = await session.run(sh("cat /tmp/from-compile; mkdir /tmp/d && touch /tmp/d/x /dev/shm/y /tmp/.hidden && chmod 000 /tmp/d && echo left", { writableWorkDir: false }));
    assert.equal(first.stdout, "artefact\nleft\n");
    const second = await session.run(sh("ls -A /tmp /dev/shm", { writableWorkDir: false }));
    assert.doesNotMatch(second.stdout, /\bd\b|\by\b|hidden/);
    assert.match(second.stdout, /from-compile/);
  });

  test("a fork bomb hits the pids limit, is killed, and the session goes on", async () => {
    const bomb = await session.run(sh("f(){ f | f & }; f; sleep 5", { limits: { ...LIMITS, processes: 16, wallTimeMs: 1_500 } }));
    assert.notEqual(bomb.exitCode, 0);
    const after = await session.run(sh("echo alive; ls -d /proc/[0-9]* | wc -l"));
    assert.match(after.stdout, /^alive\n/);
    // tini, sleep, sh, ls, wc
    assert.ok(Number(after.stdout.split("\n")[1]) <= 6, after.stdout);
  });

  test("kill -9 -1 from user code cannot end the session", async () => {
    await session.run(sh("kill -9 -1; sleep 1"));
    const out = await session.run(sh("echo still here"));
    assert.equal(out.stdout, "still here\n");
  });

  test("writeFile refuses bad names and never follows a planted symlink", async () => {
    await assert.rejects(session.writeFile("../etc/passwd", "x"), /invalid sandbox file name/);
    await assert.rejects(session.writeFile("a/b", "x"), /invalid sandbox file name/);
    await assert.rejects(session.writeFile("", "x"), /invalid sandbox file name/);
    const plant = await session.run(sh("ln -sf /tmp/target /box/evil && echo planted"));
    assert.equal(plant.stdout, "planted\n");
    await assert.rejects(session.writeFile("evil", "payload"), /writing evil into the sandbox failed/);
    const check = await session.run(sh("cat /tmp/target 2>/dev/null || echo absent"));
    assert.equal(check.stdout, "absent\n");
    await session.writeFile("unicode.txt", "héllo ✓\n");
    const cat = await session.run({ argv: ["/bin/cat", "/box/unicode.txt"], stdin: "", limits: LIMITS });
    assert.equal(cat.stdout, "héllo ✓\n");
  });

  test("argv is never a shell string", async () => {
    await assert.rejects(session.run({ argv: ["sh -c 'echo x'"], stdin: "", limits: LIMITS }), /absolute path/);
    const out = await session.run({ argv: ["/bin/echo", "$(id)", ";", "`id`"], stdin: "", limits: LIMITS });
    assert.equal(out.stdout, "$(id) ; `id`\n");
  });

  test("dispose removes the container and is idempotent", async () => {
    const s = await engine.open();
    const known = await sessionContainers();
    await s.dispose();
    await s.dispose();
    const left = await sessionContainers();
    assert.ok(left.length < known.length);
    await assert.rejects(s.run(sh("true")), /disposed/);
  });
});

describe("docker engine check()", { skip: unavailable ?? false }, () => {
  test("fails clearly when the image is missing", async () => {
    const e = createDockerEngine({ docker, image: "sonocode-runtime:no-such-tag" });
    await assert.rejects(e.check(), /image sonocode-runtime:no-such-tag is missing.*docker-image\.sh/);
  });
});

describe("docker engine check() without a daemon", () => {
  test("fails clearly when no daemon answers", async () => {
    const e = createDockerEngine({ docker: new Docker({ socketPath: "/nonexistent/docker.sock" }) });
    await assert.rejects(e.check(), /no Docker daemon answers at \/nonexistent\/docker\.sock/);
  });
});
