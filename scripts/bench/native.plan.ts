// What "native" means in the pipeline benchmark: the judge's own compile and run argv for
// a language (packages/judge/src/languages.ts), executed by chroot into the same runtime
// rootfs with the environment the sandbox gives them, and nothing else: no namespaces,
// no cgroup, no queue. Pure functions, so the test can pin the argv without a rootfs.
import type { Language } from "@sonocode/contracts";
import { LANGUAGE_REGISTRY } from "@sonocode/judge";

/** The sandbox's base environment (packages/judge/src/engines/bwrap/argv.ts): the runs see the same. */
export const SANDBOX_BASE_ENV: Readonly<Record<string, string>> = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/tmp", LANG: "C.UTF-8" };
export const CHROOT = "/usr/sbin/chroot";
/** The work dir inside the rootfs, as in the sandbox. */
export const BOX = "/box";

export interface NativePlan {
  language: Language;
  /** Path of the source inside the rootfs (under /box). */
  sourcePath: string;
  /** Compile argv inside the rootfs, or null when the language has no compile step. */
  compile: readonly string[] | null;
  run: readonly string[];
  env: Readonly<Record<string, string>>;
}

export function nativePlan(language: Language, memoryLimitMb: number): NativePlan {
  const spec = LANGUAGE_REGISTRY[language];
  return {
    language,
    sourcePath: `${BOX}/${spec.sourceFile}`,
    compile: spec.compile ? [...spec.compile] : null,
    run: [...spec.run({ memoryLimitMb })],
    env: { ...SANDBOX_BASE_ENV, ...(spec.env ?? {}) },
  };
}

/**
 * argv for the host: chroot enters the root (and "/"), the rootfs's env moves to /box, where
 * the sandbox runs everything (go-build's "./main.go" is relative), and execs the program
 * with its own argv (no shell).
 */
export function chrootArgv(root: string, argv: readonly string[]): [string, string[]] {
  if (argv.length === 0) throw new Error("empty argv");
  return [CHROOT, [root, "/usr/bin/env", `--chdir=${BOX}`, ...argv]];
}

/** How the runner compares outputs: the judge's "exact" checker ignores trailing whitespace per line and trailing blank lines. */
export function sameAnswer(actual: string, expected: string): boolean {
  const normalise = (text: string) =>
    text
      .replace(/\r\n/g, "\n")
      .split("\n")
      .map((line) => line.trimEnd())
      .join("\n")
      .replace(/\n+$/, "");
  return normalise(actual) === normalise(expected);
}
