// The declarative language registry: one entry per language says where the source
// goes, how to compile it and how to run it, all as argv arrays (never a shell
// string). Paths are inside the runtime rootfs; /box is the session's work dir,
// /tmp a fresh per-run tmpfs. Adding a language = its packages in
// scripts/runtime/build-rootfs.sh + one entry here + a case in the language tests.
import { JUDGE_DEFAULTS, type Language } from "@sonocode/contracts";
import type { RunLimits } from "./sandbox/sandbox.js";

export interface RunContext {
  /** The memory limit of this run in MiB; runtimes with their own heap caps are told about it. */
  memoryLimitMb: number;
}

export interface LanguageSpec {
  readonly language: Language;
  /** File name of the source inside /box. */
  readonly sourceFile: string;
  /** Compile (or syntax-check) argv; null when nothing has to happen before running. */
  readonly compile: readonly string[] | null;
  /**
   * A file the compile step must have produced, checked before any test runs: a
   * successful compile that cannot produce it is the user's mistake (CE), not a
   * runtime error on every test.
   */
  readonly artefact?: { readonly path: string; readonly missing: string };
  /** Run argv for one test, given the run's limits. */
  readonly run: (ctx: RunContext) => readonly string[];
  /** Extra environment for both steps (the sandbox starts empty plus PATH/HOME/LANG). */
  readonly env?: Readonly<Record<string, string>>;
  /** Scales the CPU limit for runtimes with a heavy start (JIT warm-up, interpreter). */
  readonly timeMultiplier?: number;
  /**
   * What the runtime writes to stderr when its own allocator gives up (a heap cap such as -Xmx,
   * or a request the kernel refuses outright): such a failed run is MLE, not RE, even when the
   * cgroup limit itself was never reached. Plain substrings, matched on the raw bytes.
   */
  readonly outOfMemory?: readonly string[];
}

/**
 * Node.js for JavaScript and TypeScript. V8's own stack limit (~1 MiB by default, ~10,000 frames)
 * made a 100,000-deep recursion RE although the run's stack rlimit is its memory limit (both
 * engines), so it gets a stack like Java's -Xss64m: 64 MiB, or half the memory limit when that is
 * less, always below the rlimit (V8 beyond the real stack would be a SIGSEGV, not a RangeError).
 */
function nodeRun({ memoryLimitMb }: RunContext): readonly string[] {
  const stackKb = Math.min(64 * 1024, Math.floor((memoryLimitMb * 1024) / 2));
  return ["/usr/bin/node", `--max-old-space-size=${memoryLimitMb}`, `--stack-size=${stackKb}`, "/box/main.js"];
}

/** Our own files in the runtime rootfs (scripts/runtime/build-rootfs.sh puts them there). */
const OWN = "/usr/lib/sonocode";

/**
 * Exit status of the compile run when the compiler succeeded but did not produce the
 * artefact: the check rides along with the compile (one sandbox run instead of two). Only
 * a compiler exit 0 can lead to it, and no compiler in the registry exits 86 by itself.
 */
export const ARTEFACT_MISSING_EXIT = 86;

/** The compile run's argv: the compiler itself, or wrapped so the artefact check rides along. */
export function compileArgv(spec: LanguageSpec): string[] | null {
  if (!spec.compile) return null;
  if (!spec.artefact) return [...spec.compile];
  // A constant script; the path and the compiler argv are positional parameters, never spliced into it.
  // Inside the sandbox, so "-f" following a link is harmless: nothing but the compiler ran there.
  return ["/bin/sh", "-c", `a=$1; shift; "$@" || exit; [ -f "$a" ] || exit ${ARTEFACT_MISSING_EXIT}`, "compile", spec.artefact.path, ...spec.compile];
}

// A JVM that cannot see the cgroup (no /sys in the sandbox) would size its heap
// from host RAM, so -Xmx is pinned to the limit; a heap OutOfMemoryError is then MLE
// (see outOfMemory). Serial GC and one visible CPU keep its thread count and startup low.
// -UsePerfData: no /tmp/hsperfdata_* file per run (nothing to clean up between tests).
// Unified logging prints warnings (e.g. "Failed to start thread" in a thread bomb) to
// stdout by default, where they would turn a right answer into WA: off, then warnings
// and errors back on, to stderr. The class-data-sharing archive holds the JDK classes javac and
// typical programs load (dumped at rootfs build time): javac starts ~30% faster.
const JVM_FLAGS = [
  "-XX:+UseSerialGC",
  "-XX:ActiveProcessorCount=1",
  "-Xshare:auto",
  `-XX:SharedArchiveFile=${OWN}/java/jdk.jsa`,
  "-XX:-UsePerfData",
  "-Xlog:disable",
  "-Xlog:all=warning:stderr",
];
// Not "unable to create native thread": that is the pids limit (a thread bomb), not memory.
const JVM_OUT_OF_MEMORY = [
  "java.lang.OutOfMemoryError: Java heap space",
  "java.lang.OutOfMemoryError: Requested array size exceeds VM limit",
  "java.lang.OutOfMemoryError: GC overhead limit exceeded",
  "java.lang.OutOfMemoryError: Metaspace",
  "java.lang.OutOfMemoryError: Direct buffer memory",
];
// A full V8 heap ends Node's fatal line "Allocation failed - JavaScript heap out of memory", whatever
// ran out first ("Reached heap limit", "Ineffective mark-compacts near heap limit", "invalid array
// length"); a refused ArrayBuffer or Buffer is "RangeError: Array buffer allocation failed" (both
// checked on the rootfs's Node 24). Its other fatal line, "... - process out of memory", stays RE:
// V8 prints it for failures that are not memory too (a regexp compiled at the edge of the stack).
const V8_OUT_OF_MEMORY = ["JavaScript heap out of memory", "Array buffer allocation failed"];

export const LANGUAGE_REGISTRY: Readonly<Record<Language, LanguageSpec>> = {
  CPP: {
    language: "CPP",
    sourceFile: "main.cpp",
    // -I: bits/stdc++.h precompiled with exactly these flags (rootfs); g++ falls back to the header when it does not apply.
    compile: ["/usr/bin/g++", "-O2", "-std=c++17", "-pipe", `-I${OWN}/cpp`, "-o", "/box/main", "/box/main.cpp"],
    run: () => ["/box/main"],
    outOfMemory: ["std::bad_alloc"],
  },
  C: {
    language: "C",
    sourceFile: "main.c",
    compile: ["/usr/bin/gcc", "-O2", "-std=gnu17", "-pipe", "-o", "/box/main", "/box/main.c", "-lm"],
    run: () => ["/box/main"],
  },
  JAVA: {
    language: "JAVA",
    sourceFile: "Main.java",
    compile: ["/usr/bin/javac", "-J-Xmx512m", ...JVM_FLAGS.map((f) => `-J${f}`), "-J-XX:TieredStopAtLevel=1", "-encoding", "UTF-8", "-d", "/box", "/box/Main.java"],
    // javac happily compiles a non-public `class Solution` in Main.java; `java Main` would then fail on every test.
    artefact: { path: "/box/Main.class", missing: "no class named Main: the class with main() must be called Main" },
    run: ({ memoryLimitMb }) => ["/usr/bin/java", `-Xmx${memoryLimitMb}m`, "-Xss64m", ...JVM_FLAGS, "-cp", "/box", "Main"],
    timeMultiplier: 1.5,
    outOfMemory: JVM_OUT_OF_MEMORY,
  },
  PYTHON: {
    language: "PYTHON",
    sourceFile: "main.py",
    // A syntax error is a compile error, as users expect; only the error is printed, in py_compile's words
    // (its two formats), but with the builtin compile(): importing py_compile cost ~20 ms of CPU per submission.
    compile: [
      "/usr/bin/python3",
      "-c",
      [
        "import sys",
        "try:",
        "    compile(open('/box/main.py', 'rb').read(), '/box/main.py', 'exec', dont_inherit=True)",
        "except SyntaxError as e:",
        "    import traceback",
        "    sys.stderr.write(''.join(traceback.format_exception_only(type(e), e)))",
        "    sys.exit(1)",
        "except Exception as e:",
        "    sys.stderr.write('Sorry: %s: %s' % (type(e).__name__, e))",
        "    sys.exit(1)",
      ].join("\n"),
    ],
    run: () => ["/usr/bin/python3", "-B", "/box/main.py"],
    env: { PYTHONIOENCODING: "utf-8", PYTHONDONTWRITEBYTECODE: "1" },
    outOfMemory: ["MemoryError"],
  },
  JAVASCRIPT: {
    language: "JAVASCRIPT",
    sourceFile: "main.js",
    // /usr/bin/node is the official Node.js 24 build (rootfs): its startup snapshot makes a run
    // start in ~40 ms of CPU where Debian's node 18 took ~190 ms, on every test.
    compile: ["/usr/bin/node", "--check", "/box/main.js"],
    run: nodeRun,
    outOfMemory: V8_OUT_OF_MEMORY,
  },
  TYPESCRIPT: {
    language: "TYPESCRIPT",
    sourceFile: "main.ts",
    // The native tsc (TypeScript 7, a Go binary): ~0.15 s where tsc 4.8 on Node took ~3 s, same
    // type checking. --strict false keeps 4.8's default (7 turned strict on); one checker thread.
    compile: [
      `${OWN}/typescript/lib/tsc`,
      "--strict", "false",
      "--singleThreaded",
      "--target", "es2020",
      "--lib", "es2020",
      "--module", "commonjs",
      "--skipLibCheck",
      // @types/node of the rootfs's Node.js major (24), so what type-checks is what runs.
      "--typeRoots", `${OWN}/node/node_modules/@types`,
      "--types", "node",
      "--outDir", "/box",
      "/box/main.ts",
    ],
    run: nodeRun,
    // tsc is a Go program: a small GOMAXPROCS keeps its thread count (the pids limit) low.
    env: { GOMAXPROCS: "2" },
    outOfMemory: V8_OUT_OF_MEMORY,
  },
  GO: {
    language: "GO",
    sourceFile: "main.go",
    // compile + link against the std precompiled (CGO_ENABLED=0) into the rootfs: no go command
    // walking std for staleness, no std package rebuilt (net/http took 8-17 s with "go build").
    // "./main.go": compiler messages name the file as "go build" does.
    compile: [`${OWN}/go/go-build`, "./main.go", "/box/main"],
    run: () => ["/box/main"],
    // GOMAXPROCS keeps the thread count small (the compiler's and the program's).
    env: { GOMAXPROCS: "2" },
    outOfMemory: ["runtime: out of memory"],
  },
  RUST: {
    language: "RUST",
    sourceFile: "main.rs",
    compile: ["/usr/bin/rustc", "-O", "--edition", "2021", "-o", "/box/main", "/box/main.rs"],
    run: () => ["/box/main"],
    // The default alloc error handler: "memory allocation of N bytes failed", then abort.
    outOfMemory: ["memory allocation of "],
  },
};

export function languageSpec(language: Language): LanguageSpec {
  return LANGUAGE_REGISTRY[language];
}

/** Limits of every compile step (submissions and custom checkers alike). */
export const COMPILE_LIMITS: RunLimits = {
  cpuTimeMs: JUDGE_DEFAULTS.compileTimeLimitMs,
  // Compilers are I/O-heavy and slow on a loaded host: the wall bound only catches a blocked compiler.
  wallTimeMs: JUDGE_DEFAULTS.compileTimeLimitMs * 3,
  memoryBytes: JUDGE_DEFAULTS.compileMemoryLimitMb * 1024 * 1024,
  outputBytes: JUDGE_DEFAULTS.compileOutputLimitBytes,
  processes: JUDGE_DEFAULTS.maxProcesses,
  fileSizeBytes: 256 * 1024 * 1024,
};
