// The Docker daemon's side of one exec: its multiplexed output stream, the runc init
// process that precedes the program, and the exec's exit code.
import { readFileSync, readlinkSync } from "node:fs";
import type Docker from "dockerode";
import type { OutputCapture } from "../../sandbox/output.js";

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Splits the daemon's multiplexed exec stream (8-byte header: stream id, 3 zero
 * bytes, big-endian length) into stdout/stderr for an OutputCapture.
 */
export class ExecDemuxer {
  private readonly header = Buffer.alloc(8);
  private headerLen = 0;
  private remaining = 0;
  private streamId: 1 | 2 = 1;

  constructor(private readonly output: Pick<OutputCapture, "push">) {}

  push(chunk: Buffer): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining === 0) {
        const take = Math.min(8 - this.headerLen, chunk.length - i);
        chunk.copy(this.header, this.headerLen, i, i + take);
        this.headerLen += take;
        i += take;
        if (this.headerLen === 8) {
          this.streamId = this.header[0] === 2 ? 2 : 1;
          this.remaining = this.header.readUInt32BE(4);
          this.headerLen = 0;
        }
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - i);
      this.output.push(this.streamId, chunk.subarray(i, i + take));
      this.remaining -= take;
      i += take;
    }
  }
}

/**
 * runc's init process, before it execve()s the program. The name alone ("runc:[2:INIT]")
 * could be forged with prctl(PR_SET_NAME) to dodge the limits, the executable cannot:
 * runc runs from a binary outside the container (shown as "/" or a host runc path).
 */
export function isRuncInit(pid: number): boolean {
  try {
    if (!readFileSync(`/proc/${pid}/comm`, "utf8").startsWith("runc:[")) return false;
    const exe = readlinkSync(`/proc/${pid}/exe`);
    return exe === "/" || /^\/usr\/(local\/)?s?bin\/runc$/.test(exe);
  } catch {
    return false;
  }
}

/** A host pid that is running (not gone, not a zombie). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

export async function waitExecExit(exec: Docker.Exec): Promise<number | null> {
  for (let i = 0; ; i++) {
    const info = await exec.inspect();
    if (!info.Running || i >= 200) return info.Running ? null : info.ExitCode;
    await sleep(i < 10 ? 2 : 10);
  }
}
