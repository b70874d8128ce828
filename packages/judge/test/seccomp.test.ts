// The one seccomp policy (src/sandbox/seccomp/policy.ts) on both engines: bwrap
// installs the libseccomp filter generated from it, Docker gets the profile JSON
// generated from it. Denied calls fail with the policy's errno and the program
// carries on; a foreign syscall ABI (i386 int 0x80, x32) kills it with SIGSYS; every
// process in the sandbox is filtered. Needs root, bwrap and the runtime rootfs; the
// Docker half also a daemon and the runtime image (skips with the reason otherwise).
import assert from "node:assert/strict";
import { after, before, describe, it, test } from "node:test";
import type { Verdict } from "@sonocode/contracts";
import { createBwrapEngine, createDockerEngine, createJudge, type Judge, type RunLimits, type SandboxEngine } from "../src/index.js";
import { dockerSeccompProfile } from "../src/sandbox/seccomp/docker-profile.js";
import { policyText } from "../src/sandbox/seccomp/bpf.js";
import { SECCOMP_RULES } from "../src/sandbox/seccomp/policy.js";
import { dockerSkipReason } from "./docker.availability.js";
import { PROBE_OUTPUT, PROBE_SOURCE, unprobedGroups } from "./seccomp.probes.js";
import { asText } from "./run-text.js";

function describeVerdict(v: Verdict): string {
  return `${v.status}: ${v.message ?? ""} ${JSON.stringify(v.failedTest ?? v.compileOutput)?.slice(0, 3000)}`;
}

test("both generators read one policy, and every class of it is probed", () => {
  assert.deepEqual(unprobedGroups(), []);
  // The Docker profile is the allowlist form of the same policy (seccomp.policy.test.ts proves them equal): its last
  // entries are the policy's denials, in order.
  const profile = dockerSeccompProfile();
  assert.equal(profile.defaultAction, "SCMP_ACT_ERRNO");
  const denials = profile.syscalls.filter((s) => s.action === "SCMP_ACT_ERRNO");
  assert.equal(denials.length, SECCOMP_RULES.length);
  assert.equal(policyText().trim().split("\n").length, SECCOMP_RULES.length);
  for (const [i, rule] of SECCOMP_RULES.entries()) assert.deepEqual(denials[i]?.names, [rule.syscall.name]);
});

const dockerUnavailable = await dockerSkipReason(createDockerEngine({}));

for (const name of ["bwrap", "docker"] as const) {
  const skip = name === "docker" ? (dockerUnavailable ?? false) : false;
  describe(`seccomp policy (${name})`, { skip }, () => {
    let judge: Judge;
    before(async () => {
      judge = await createJudge({ engine: name, maxConcurrency: 2 });
      assert.equal(judge.engine, name);
    });
    after(async () => {
      await judge?.close();
    });

    it("denies every listed class with the policy's errno; the program carries on", async () => {
      const verdict = await judge.judge({ language: "C", source: PROBE_SOURCE, tests: [{ input: "", output: PROBE_OUTPUT }] });
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

    it("covers every process in the sandbox: supervisors, runtimes and what they fork", async () => {
      const engine: SandboxEngine = name === "bwrap" ? createBwrapEngine({}) : createDockerEngine({});
      await engine.check();
      const session = await engine.open();
      const limits: RunLimits = { cpuTimeMs: 3_000, wallTimeMs: 8_000, memoryBytes: 256 << 20, outputBytes: 1 << 20, processes: 16, fileSizeBytes: 1 << 20 };
      try {
        const spec = {
          argv: [
            "/usr/bin/python3",
            "-c",
            [
              "import ctypes, os",
              "libc = ctypes.CDLL(None, use_errno=True)",
              "print(libc.ptrace(0, 0, 0, 0), ctypes.get_errno())",
              // Every process visible inside, supervisors included: mode 2 = filter.
              "modes = [open(f'/proc/{p}/status').read().split('Seccomp:')[1].split()[0] for p in os.listdir('/proc') if p.isdigit()]",
              "print(len(modes) >= 2, set(modes))",
            ].join("\n"),
          ],
          stdin: "",
          limits,
          writableWorkDir: true,
        };
        const run = asText(await session.run(spec), spec);
        assert.equal(run.exitCode, 0, run.stderr);
        assert.equal(run.stdout, "-1 1\nTrue {'2'}\n");
      } finally {
        await session.dispose();
        await engine.close();
      }
    });
  });
}
