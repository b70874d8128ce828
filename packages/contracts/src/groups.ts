import { z } from "zod";

/** A subtask's name: also what tests name in testCases[].group (Kattis: a data/secret sub-directory). */
export const groupNameSchema = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/, "must be 1-64 letters, digits, . _ - (not starting with . or -)");

export const MAX_GROUPS = 64;

/**
 * A subtask: it earns `points` when all its tests pass, and only when every group it
 * depends on passed too. The judge scores them (packages/judge/src/scoring.ts).
 */
export const testGroupSchema = z.object({
  name: groupNameSchema,
  points: z.number().min(0).max(1_000),
  dependencies: z.array(groupNameSchema).max(MAX_GROUPS).optional(),
});
export type TestGroup = z.infer<typeof testGroupSchema>;

export const testGroupsSchema = z.array(testGroupSchema).max(MAX_GROUPS);

export interface ConsistencyIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Rules that span fields (so PATCH can check the merged document too): every test's group
 * is declared, every group has a test, names are unique, dependencies name earlier-declared
 * groups (which also rules out cycles, and gives a judging order).
 */
export function groupIssues(problem: { testCases: readonly { group?: string | undefined }[]; groups?: readonly TestGroup[] | undefined }): ConsistencyIssue[] {
  const issues: ConsistencyIssue[] = [];
  const groups = problem.groups ?? [];
  const declared = new Set<string>();
  groups.forEach((group, index) => {
    if (declared.has(group.name)) issues.push({ path: ["groups", index, "name"], message: `group ${group.name} is declared twice` });
    (group.dependencies ?? []).forEach((dependency, at) => {
      if (!declared.has(dependency)) {
        issues.push({ path: ["groups", index, "dependencies", at], message: `${dependency} must be a group declared before ${group.name}` });
      }
    });
    declared.add(group.name);
  });
  const used = new Set<string>();
  problem.testCases.forEach((test, index) => {
    if (test.group === undefined) return;
    used.add(test.group);
    if (!declared.has(test.group)) issues.push({ path: ["testCases", index, "group"], message: `group ${test.group} is not declared in groups` });
  });
  groups.forEach((group, index) => {
    if (!used.has(group.name)) issues.push({ path: ["groups", index], message: `group ${group.name} has no tests` });
  });
  return issues;
}
