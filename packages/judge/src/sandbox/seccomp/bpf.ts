// The bwrap engine's seccomp filter: the policy (policy.ts) compiled with libseccomp
// by native/seccomp-gen.c into classic BPF, which each run init (native/run-init.c)
// installs on itself before it forks the program. Built on the host at engine start
// (gcc + libseccomp-dev, installed by scripts/setup.sh) and cached next to the native
// helpers; the cache key covers the generator and the policy text.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { lstat, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { SandboxError } from "../../errors.js";
import { ERRNO, SECCOMP_RULES, type ArgCompare, type SeccompRule } from "./policy.js";

const run = promisify(execFile);
const GENERATOR_SOURCE_URL = new URL("../../../native/seccomp-gen.c", import.meta.url);
/** The kernel takes at most 4096 instructions of 8 bytes. */
const MAX_FILTER_BYTES = 4096 * 8;

function compareText(c: ArgCompare): string {
  return c.op === "masked_eq" ? `${c.arg} masked_eq ${c.mask} ${c.value}` : `${c.arg} ${c.op} ${c.value}`;
}

/** The generator's input: one "<nr> <errno> [comparisons]" line per rule. */
export function policyText(rules: readonly SeccompRule[] = SECCOMP_RULES): string {
  return rules.map((r) => [r.syscall.nr, ERRNO[r.errno], ...(r.when ?? []).map(compareText)].join(" ") + "\n").join("");
}

/** Changes whenever the generator or the policy does: part of the helper cache key. */
export async function seccompFingerprint(): Promise<string> {
  return createHash("sha256").update(await readFile(GENERATOR_SOURCE_URL)).update("\0").update(policyText()).digest("hex");
}

/** Compiles the generator in scratchDir and writes the filter to outFile (which must not exist). */
export async function generateSeccompBpf(outFile: string, scratchDir: string): Promise<void> {
  const generator = join(scratchDir, "seccomp-gen");
  try {
    await run("gcc", ["-O2", "-Wall", "-o", generator, new URL(GENERATOR_SOURCE_URL).pathname, "-lseccomp"], { env: { PATH: "/usr/local/bin:/usr/bin:/bin" } });
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new SandboxError(`cannot build the seccomp generator (needs gcc and libseccomp-dev; run scripts/setup.sh): ${stderr.slice(0, 1000)}`);
  }
  try {
    await new Promise<void>((resolve, reject) => {
      const child = execFile(generator, [outFile], { env: {} }, (error, _stdout, stderr) => {
        if (error) reject(new SandboxError(`cannot generate the seccomp filter: ${stderr.slice(0, 1000)}`));
        else resolve();
      });
      child.stdin?.end(policyText());
    });
  } finally {
    await rm(generator, { force: true });
  }
  const size = (await lstat(outFile)).size;
  // bwrap wants whole struct sock_filter entries.
  if (size === 0 || size % 8 !== 0 || size > MAX_FILTER_BYTES) throw new SandboxError(`the generated seccomp filter has an invalid size (${size} bytes)`);
}
