// The one signal table of the engines: numbers to names as the verdict core expects
// them ("SIGSEGV"). First name wins for aliases: SIGABRT over SIGIOT, SIGIO over SIGPOLL.
import { constants } from "node:os";

const NAMES = new Map<number, string>();
for (const [name, num] of Object.entries(constants.signals)) if (!NAMES.has(num)) NAMES.set(num, name);

export function signalName(num: number): string {
  return NAMES.get(num) ?? `SIG${num}`;
}

/** A shell-style status (128+N for "killed by signal N", as Docker and bwrap report it) as exit code or signal. */
export function fromShellStatus(code: number): { exitCode: number | null; signal: string | null } {
  if (code > 128 && code <= 128 + 64 && NAMES.has(code - 128)) return { exitCode: null, signal: signalName(code - 128) };
  return { exitCode: code, signal: null };
}
