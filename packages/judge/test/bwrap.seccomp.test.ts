// The bwrap engine's seccomp filter (native/seccomp-filter.c, installed by bwrap
// --seccomp; needs root, bwrap and the runtime rootfs). bwrap-only: Docker's default profile differs (it allows ptrace on
// kernels >= 4.8, and its io_uring and personality rules depend on the Docker version).
// Denied syscalls fail with EPERM (clone3 with ENOSYS) and the program carries on;
// a foreign syscall ABI (i386 int 0x80, x32) kills it with SIGSYS.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { JudgeRequest, Verdict } from "@sonocode/contracts";
import { createBwrapEngine, createJudge, type Judge, type RunLimits } from "../src/index.js";
import { textSession } from "./run-text.js";

const PROBES: Array<[name: string, call: string, expected: string]> = [
  ["ptrace", "ptrace(PTRACE_TRACEME, 0, 0, 0)", "EPERM"],
  ["process_vm_readv", "syscall(SYS_process_vm_readv, getppid(), 0, 0, 0, 0, 0)", "EPERM"],
  ["unshare_user", "unshare(CLONE_NEWUSER)", "EPERM"],
  ["unshare_net", "unshare(CLONE_NEWNET)", "EPERM"],
  ["clone_newuser", "syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0)", "EPERM"],
  ["clone_newns", "syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0)", "EPERM"],
  ["clone3", "syscall(SYS_clone3, 0, 0)", "ENOSYS"],
  ["setns", "syscall(SYS_setns, 0, 0)", "EPERM"],
  ["mount", 'mount("none", "/tmp", "tmpfs", 0, 0)', "EPERM"],
  ["keyctl", "syscall(SYS_keyctl, 0, -3, 0)", "EPERM"],
  ["add_key", 'syscall(SYS_add_key, "user", "k", "v", 1, -3)', "EPERM"],
  ["io_uring_setup", "syscall(SYS_io_uring_setup, 1, 0)", "EPERM"],
  ["bpf", "syscall(SYS_bpf, 0, 0, 0)", "EPERM"],
  ["perf_event_open", "syscall(SYS_perf_event_open, 0, 0, -1, -1, 0)", "EPERM"],
  ["userfaultfd", "syscall(SYS_userfaultfd, 0)", "EPERM"],
  ["personality_norandom", "personality(ADDR_NO_RANDOMIZE)", "EPERM"],
  ["open_by_handle_at", "syscall(SYS_open_by_handle_at, 0, 0, 0)", "EPERM"],
  ["fsopen", 'syscall(SYS_fsopen, "tmpfs", 0)', "EPERM"],
  ["syslog", "syscall(SYS_syslog, 3, 0, 0)", "EPERM"],
  ["clock_settime", "syscall(SYS_clock_settime, 0, 0)", "EPERM"],
];

const PROBE_SOURCE = [
  "#define _GNU_SOURCE",
  "#include <errno.h>",
  "#include <pthread.h>",
  "#include <sched.h>",
  "#include <signal.h>",
  "#include <stdio.h>",
  "#include <string.h>",
  "#include <sys/mount.h>",
  "#include <sys/personality.h>",
  "#include <sys/ptrace.h>",
  "#include <sys/syscall.h>",
  "#include <sys/wait.h>",
  "#include <unistd.h>",
  "static void *thread(void *arg) { return arg; }",
  "static void probe(const char *name, long r) { printf(\"%s %s\\n\", name, r == -1 ? strerrorname_np(errno) : \"ALLOWED\"); }",
  "int main(void) {",
  ...PROBES.map(([name, call]) => `  errno = 0; probe("${name}", (long)(${call}));`),
  // What must keep working: threads (clone3 -> clone fallback), fork, the personality query.
  "  pthread_t t; int ok = pthread_create(&t, 0, thread, 0) == 0 && pthread_join(t, 0) == 0;",
  "  pid_t p = fork(); if (p == 0) _exit(7); int st = 0; waitpid(p, &st, 0);",
  '  printf("threads %d fork %d personality %d\\n", ok, WIFEXITED(st) ? WEXITSTATUS(st) : -1, personality(0xffffffff) != -1);',
  "  return 0;",
  "}",
].join("\n");

const PROBE_OUTPUT = PROBES.map(([name, , expected]) => `${name} ${expected}\n`).join("") + "threads 1 fork 7 personality 1\n";

function describeVerdict(v: Verdict): string {
  return `${v.status}: ${v.message ?? ""} ${JSON.stringify(v.failedTest ?? v.compileOutput)?.slice(0, 2000)}`;
}

describe("bwrap seccomp filter", () => {
  let judge: Judge;
  before(async () => {
    judge = await createJudge({ engine: "bwrap", maxConcurrency: 2 });
    assert.equal(judge.engine, "bwrap");
  });
  after(async () => {
    await judge?.close();
  });

  it("denies the listed syscalls with EPERM (clone3 ENOSYS); the program carries on", async () => {
    const request: JudgeRequest = { language: "C", source: PROBE_SOURCE, tests: [{ input: "", output: PROBE_OUTPUT }] };
    const verdict = await judge.judge(request);
    assert.equal(verdict.status, "Success", describeVerdict(verdict));
  });

  for (const [abi, asm] of [
    ["i386 int 0x80", '__asm__ volatile("int $0x80" : "=a"(r) : "a"(20L) : "memory");'],
    ["x32", '__asm__ volatile("syscall" : "=a"(r) : "a"(0x40000000L + 39) : "rcx", "r11", "memory");'],
  ] as const) {
    it(`kills a ${abi} syscall (SIGSYS)`, async () => {
      const verdict = await judge.judge({
        language: "C",
        source: `#include <stdio.h>\nint main(void){long r;${asm}printf("SURVIVED %ld\\n", r);return 0;}`,
        tests: [{ input: "", output: "KILLED\n" }],
      });
      assert.equal(verdict.status, "RE", describeVerdict(verdict));
      assert.ok(!(verdict.failedTest?.actual ?? "").includes("SURVIVED"), describeVerdict(verdict));
    });
  }

  it("covers every process in the sandbox: supervisors, compilers, runtimes", async () => {
    const engine = createBwrapEngine({});
    await engine.check();
    const session = textSession(await engine.open());
    const limits: RunLimits = { cpuTimeMs: 3_000, wallTimeMs: 8_000, memoryBytes: 256 << 20, outputBytes: 1 << 20, processes: 16, fileSizeBytes: 1 << 20 };
    try {
      const run = await session.run({
        argv: [
          "/usr/bin/python3",
          "-c",
          [
            "import ctypes",
            "libc = ctypes.CDLL(None, use_errno=True)",
            "print(libc.ptrace(0, 0, 0, 0), ctypes.get_errno())",
            "print(libc.unshare(0x10000000), ctypes.get_errno())",
            // Every process in the sandbox, supervisors included (bwrap's pid 1, our run helper): mode 2 = filter.
            "import os",
            "print(' '.join(open(f'/proc/{p}/status').read().split('Seccomp:')[1].split()[0] for p in sorted(os.listdir('/proc'), key=lambda p: p.zfill(9)) if p.isdigit()))",
          ].join("\n"),
        ],
        stdin: "",
        limits,
        writableWorkDir: true,
      });
      assert.equal(run.exitCode, 0, run.stderr);
      // EPERM = 1; three processes (pid 1, the helper, python), all filtered.
      assert.equal(run.stdout, "-1 1\n-1 1\n2 2 2\n");
    } finally {
      await session.dispose();
      await engine.close();
    }
  });
});
