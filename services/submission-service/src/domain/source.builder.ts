import type { Language, Problem } from "@sonocode/contracts";

/**
 * The program the judge runs: the problem's stub around the user's code
 * (startSnippet, code, endSnippet, one per line, as the original system
 * concatenated them). Without a stub for the language the code is the whole
 * program, so problems that read stdin directly need no stubs at all.
 */
export function buildSource(problem: Pick<Problem, "codeStubs">, language: Language, code: string): string {
  const stub = problem.codeStubs.find((candidate) => candidate.language === language);
  if (!stub) return code;
  return [stub.startSnippet, code, stub.endSnippet].join("\n");
}
