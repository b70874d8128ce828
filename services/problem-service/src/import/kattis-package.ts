// A Kattis problem package (the legacy layout most archives use) -> a problem body.
// Only what the platform can honour is accepted: a package that would need something else
// (an interactor, a multi-pass or flag-taking validator, tolerances we cannot express) is
// refused with the reason, never imported with a different meaning.
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { CHECKER_LIMITS, PROBLEM_LIMITS, type Checker, type Difficulty, type Interactor, type ProblemInput, type TestGroup } from "@sonocode/contracts";
import { AppError } from "@sonocode/errors";
import { badPackage } from "./zip-reader.js";

/** Without a .timelimit file (legacy problemtools writes one), a problem gets this, as Kattis' own default. */
export const DEFAULT_TIME_LIMIT_SECONDS = 2;

const problemYamlSchema = z
  .object({
    name: z.union([z.string(), z.record(z.string(), z.string())]).optional(),
    limits: z
      .object({
        memory: z.number().positive().optional(),
        // Kattis derives the time limit from its judge solutions times this; no solution is run at
        // import, so it is only checked here: the limit is .timelimit (what problemtools wrote) or 2 s.
        time_multiplier: z.number().positive().optional(),
        time_limit: z.number().positive().optional(),
      })
      .loose()
      .optional(),
    validation: z.string().optional(),
    validator_flags: z.union([z.string(), z.number()]).optional(),
  })
  .loose();
type ProblemYaml = z.infer<typeof problemYamlSchema>;

const decoder = new TextDecoder("utf-8", { fatal: true });

/**
 * A package file as text, or a 400 naming the file and why. NUL is valid UTF-8 but no store
 * keeps it (the problem's own check would refuse it later as a bare "invalid problem package"
 * with a path into testCases, not the file), so it is refused here with its offset.
 */
function text(path: string, data: Buffer): string {
  let decoded: string;
  try {
    decoded = decoder.decode(data);
  } catch {
    throw badPackage(`${path} is not UTF-8 text`);
  }
  const nul = data.indexOf(0);
  if (nul !== -1) throw badPackage(`${path} has a NUL byte at offset ${nul}: package files must be text without NUL bytes (tests, statements and validators are stored as text)`);
  return decoded;
}

/** The archive's files relative to the package root: the zip's root, or its one top-level directory. */
function packageRoot(archive: Map<string, Buffer>): Map<string, Buffer> {
  // macOS' archiver adds resource forks under __MACOSX/: never part of a package.
  const files = new Map([...archive].filter(([name]) => !name.startsWith("__MACOSX/")));
  if (files.has("problem.yaml")) return files;
  const roots = new Set([...files.keys()].map((name) => name.split("/", 1)[0]!));
  const [root] = roots;
  if (roots.size === 1 && root !== undefined && files.has(`${root}/problem.yaml`)) {
    const prefix = `${root}/`;
    return new Map([...files].filter(([name]) => name.startsWith(prefix)).map(([name, data]) => [name.slice(prefix.length), data]));
  }
  throw badPackage("problem.yaml is missing (at the root of the zip or of its one top-level directory)");
}

function readProblemYaml(files: Map<string, Buffer>): ProblemYaml {
  let raw: unknown;
  try {
    // Aliases are capped (the yaml default of 100): a billion-laughs document fails here.
    raw = parseYaml(text("problem.yaml", files.get("problem.yaml")!), { maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw badPackage(`problem.yaml is not valid YAML (${error instanceof Error ? error.message.split("\n", 1)[0]!.slice(0, 160) : "parse error"})`);
  }
  const parsed = problemYamlSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw badPackage(`problem.yaml: ${issue.path.join(".") || "document"}: ${issue.message}`);
  }
  return parsed.data;
}

function statement(files: Map<string, Buffer>): { description: string; format: "md" | "tex" } {
  for (const [name, format] of [
    ["problem_statement/problem.en.md", "md"],
    ["problem_statement/problem.md", "md"],
    ["problem_statement/problem.en.tex", "tex"],
    ["problem_statement/problem.tex", "tex"],
  ] as const) {
    const data = files.get(name);
    if (data) return { description: text(name, data), format };
  }
  throw badPackage("no statement: problem_statement/problem.en.md (or problem.en.tex) is missing");
}

function title(yaml: ProblemYaml, description: string, format: "md" | "tex"): string {
  const name = typeof yaml.name === "string" ? yaml.name : (yaml.name?.["en"] ?? Object.values(yaml.name ?? {})[0]);
  if (name?.trim()) return name.trim();
  const fromStatement = format === "tex" ? /\\problemname\{([^}\n]{1,200})\}/.exec(description)?.[1] : /^#\s+(.{1,200})$/m.exec(description)?.[1];
  if (fromStatement?.trim()) return fromStatement.trim();
  throw badPackage("no problem name: problem.yaml has no name and the statement none either");
}

function timeLimitMs(files: Map<string, Buffer>, yaml: ProblemYaml): number {
  const file = files.get(".timelimit");
  const seconds = file ? Number(text(".timelimit", file).trim()) : (yaml.limits?.time_limit ?? DEFAULT_TIME_LIMIT_SECONDS);
  if (!Number.isFinite(seconds) || seconds <= 0) throw badPackage(".timelimit must hold a positive number of seconds");
  const ms = Math.round(seconds * 1000);
  const { min, max } = PROBLEM_LIMITS.timeLimitMs;
  if (ms < min || ms > max) throw badPackage(`time limit ${seconds} s is outside ${min / 1000}-${max / 1000} s`);
  return ms;
}

function memoryLimitMb(yaml: ProblemYaml): number | undefined {
  const memory = yaml.limits?.memory;
  if (memory === undefined) return undefined;
  const { min, max } = PROBLEM_LIMITS.memoryLimitMb;
  if (!Number.isInteger(memory) || memory < min || memory > max) throw badPackage(`limits.memory ${memory} MiB is outside ${min}-${max} MiB`);
  return memory;
}

/** validator_flags of the default validator -> one of our built-in checkers, or a refusal. */
function defaultChecker(flags: string[]): Checker {
  const known = new Set(["case_sensitive", "space_change_sensitive", "float_tolerance", "float_absolute_tolerance", "float_relative_tolerance"]);
  const values = new Map<string, number>();
  const switches = new Set<string>();
  for (let i = 0; i < flags.length; i++) {
    const flag = flags[i]!;
    if (!known.has(flag)) throw badPackage(`validator_flags: ${JSON.stringify(flag.slice(0, 40))} is not supported`);
    if (flag.startsWith("float_")) {
      const value = Number(flags[++i]);
      if (!(value > 0 && value <= 1)) throw badPackage(`validator_flags: ${flag} needs a tolerance in (0, 1]`);
      values.set(flag, value);
    } else switches.add(flag);
  }
  const caseSensitive = switches.has("case_sensitive");
  if (switches.has("space_change_sensitive")) {
    if (values.size > 0 || !caseSensitive) throw badPackage("validator_flags: space_change_sensitive is supported only together with case_sensitive and no float tolerance");
    // Our exact checker: line by line (trailing whitespace of a line and trailing blank lines are not significant).
    return { type: "exact" };
  }
  const tolerances = [...values.values()];
  if (tolerances.length === 0) return { type: "tokens", ...(caseSensitive ? {} : { caseSensitive: false }) };
  // One epsilon, "absolute or relative, whichever is looser": different absolute and relative tolerances cannot be expressed.
  if (new Set(tolerances).size > 1) throw badPackage("validator_flags: different absolute and relative float tolerances are not supported");
  return { type: "float", epsilon: tolerances[0]!, ...(caseSensitive ? {} : { caseSensitive: false }) };
}

const VALIDATOR_LANGUAGES: Record<string, Checker["language"]> = {
  ".c": "C",
  ".cpp": "CPP",
  ".cc": "CPP",
  ".cxx": "CPP",
  ".py": "PYTHON",
  ".py3": "PYTHON",
  ".go": "GO",
  ".rs": "RUST",
  ".js": "JAVASCRIPT",
};

/** output_validators/<one dir>/: one source file in a supported language, the rest (headers) beside it. */
function customChecker(files: Map<string, Buffer>): Checker {
  const entries = [...files].filter(([name]) => name.startsWith("output_validators/"));
  const dirs = new Set(entries.map(([name]) => name.split("/")[1]));
  if (entries.length === 0) throw badPackage("validation: custom, but output_validators/ is empty");
  if (dirs.size !== 1 || entries.some(([name]) => name.split("/").length !== 3)) {
    throw badPackage("output_validators/ must hold exactly one validator directory with its files directly inside");
  }
  const sources = entries.filter(([name]) => VALIDATOR_LANGUAGES[extension(name)] !== undefined);
  if (sources.length !== 1) throw badPackage(`output_validators/: ${sources.length === 0 ? "no source file in a supported language (.c .cpp .py .go .rs .js)" : "a validator of several source files is not supported"}`);
  const [sourcePath, sourceData] = sources[0]!;
  const source = text(sourcePath, sourceData);
  if (source.length > CHECKER_LIMITS.sourceBytes) throw badPackage(`${sourcePath} is larger than ${CHECKER_LIMITS.sourceBytes} bytes`);
  const helpers = entries.filter(([name]) => name !== sourcePath).map(([name, data]) => ({ name: name.split("/")[2]!, content: text(name, data) }));
  return { type: "custom", protocol: "kattis", language: VALIDATOR_LANGUAGES[extension(sourcePath)]!, source, ...(helpers.length > 0 ? { files: helpers } : {}) };
}

function extension(name: string): string {
  const base = name.slice(name.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot <= 0 ? "" : base.slice(dot).toLowerCase();
}

function checker(files: Map<string, Buffer>, yaml: ProblemYaml): Checker {
  const words = (yaml.validation ?? "default").trim().split(/\s+/);
  const flags = yaml.validator_flags === undefined ? [] : String(yaml.validator_flags).trim().split(/\s+/).filter(Boolean);
  if (words.includes("interactive")) throw badPackage(`validation: ${JSON.stringify(yaml.validation)} is not supported (interactive problems: custom interactive)`);
  if (words[0] === "default" && words.length === 1) return defaultChecker(flags);
  if (words[0] !== "custom") throw badPackage(`validation: ${JSON.stringify(yaml.validation)} is not supported (default or custom)`);
  if (words.length > 1) throw badPackage(`validation: ${JSON.stringify(yaml.validation)} is not supported yet (only plain custom)`);
  if (flags.length > 0) throw badPackage("validator_flags for a custom validator are not supported yet");
  return customChecker(files);
}

/**
 * How the package is judged: its checker, or for `validation: custom interactive` its
 * output validator as the interactor (kattis protocol: the validator talks to the program
 * on its stdin/stdout and decides with 42/43).
 */
function judging(files: Map<string, Buffer>, yaml: ProblemYaml): { checker: Checker } | { interactor: Interactor } {
  const words = (yaml.validation ?? "default").trim().split(/\s+/);
  if (words.length !== 2 || words[0] !== "custom" || words[1] !== "interactive") return { checker: checker(files, yaml) };
  if (yaml.validator_flags !== undefined && String(yaml.validator_flags).trim() !== "") throw badPackage("validator_flags for a custom validator are not supported yet");
  const { language, source, files: helpers } = customChecker(files);
  return { interactor: { protocol: "kattis", language: language!, source: source!, ...(helpers ? { files: helpers } : {}) } };
}

/** Natural order, as packages number their tests (2.in before 10.in). */
const byPath = new Intl.Collator("en", { numeric: true }).compare;

interface FoundTest {
  input: string;
  output: string;
  hidden: boolean;
  group?: string;
}

/** data/sample/**.in|.ans (visible) and data/secret/**.in|.ans (hidden; first-level sub-directories are groups). */
function tests(files: Map<string, Buffer>): { testCases: FoundTest[]; groups: TestGroup[] } {
  const found: FoundTest[] = [];
  const groupOrder: string[] = [];
  for (const kind of ["sample", "secret"] as const) {
    const prefix = `data/${kind}/`;
    const names = [...files.keys()].filter((name) => name.startsWith(prefix)).sort(byPath);
    const inputs = new Set(names.filter((name) => name.endsWith(".in")).map((name) => name.slice(0, -3)));
    const answers = new Set(names.filter((name) => name.endsWith(".ans")).map((name) => name.slice(0, -4)));
    for (const stem of answers) if (!inputs.has(stem)) throw badPackage(`${stem}.ans has no ${stem.slice(stem.lastIndexOf("/") + 1)}.in`);
    const nested = [...inputs].some((stem) => stem.slice(prefix.length).includes("/"));
    for (const stem of inputs) {
      if (!answers.has(stem)) throw badPackage(`${stem}.in has no ${stem.slice(stem.lastIndexOf("/") + 1)}.ans`);
      const test: FoundTest = { input: text(`${stem}.in`, files.get(`${stem}.in`)!), output: text(`${stem}.ans`, files.get(`${stem}.ans`)!), hidden: kind === "secret" };
      if (kind === "secret" && nested) {
        const relative = stem.slice(prefix.length);
        const group = relative.includes("/") ? relative.slice(0, relative.indexOf("/")) : "secret";
        if (!/^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/.test(group)) throw badPackage(`data/secret/${group.slice(0, 64)}: a group name must be 1-64 letters, digits, . _ -`);
        if (!groupOrder.includes(group)) groupOrder.push(group);
        test.group = group;
      }
      found.push(test);
    }
  }
  if (!found.some((test) => test.hidden)) throw badPackage("no secret tests: data/secret/ has no .in/.ans pairs");
  // Equal shares of 100 points (the remainder to the last group), which the judge scores by group.
  const share = Math.floor(100 / Math.max(1, groupOrder.length));
  const groups = groupOrder.map((name, index) => ({ name, points: index === groupOrder.length - 1 ? 100 - share * (groupOrder.length - 1) : share }));
  return { testCases: found, groups };
}

/** The problem body of a package's files (as readZip returned them); throws a 400 AppError on anything wrong. */
export function problemFromKattisPackage(archive: Map<string, Buffer>, options: { difficulty: Difficulty }): ProblemInput {
  const files = packageRoot(archive);
  const yaml = readProblemYaml(files);
  const judgedBy = judging(files, yaml);
  const { description, format } = statement(files);
  const { testCases, groups } = tests(files);
  const memory = memoryLimitMb(yaml);
  return {
    title: title(yaml, description, format),
    description,
    difficulty: options.difficulty,
    testCases,
    codeStubs: [],
    timeLimitMs: timeLimitMs(files, yaml),
    ...(memory === undefined ? {} : { memoryLimitMb: memory }),
    ...judgedBy,
    ...(groups.length > 0 ? { groups } : {}),
  };
}
