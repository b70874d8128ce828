/**
 * The pub/sub channel on which problem-service announces that a problem's
 * judging view changed (replaced, patched or deleted), so every
 * submission-service replica drops its cached copy. The message is the
 * problem's id, or PROBLEM_CHANGES_ALL to drop everything. Do not rename: the
 * publisher and the subscribers are different processes, possibly of different versions.
 */
export function problemChangesChannel(prefix: string): string {
  return `${prefix}:problem-changes`;
}

/** Message meaning "any problem may have changed" (e.g. after a bulk import). */
export const PROBLEM_CHANGES_ALL = "*";
