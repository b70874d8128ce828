// What both engines keep of a run's stdout and stderr: raw bytes (never decoded
// here), at most `limit` bytes in total and at most `stderrKeep` of stderr, with the
// total written counted whether kept or not. The first byte past `limit` calls
// onOverflow once: the engine's output watchdog kills the run.
//
// Why it is shaped like this:
// - stdout past SPILL_BYTES is copied, as it arrives, into one buffer of the whole cap
//   allocated once. A final Buffer.concat of 64 MiB costs the event loop ~50 ms of page
//   faults and copying in one go; spread over the data events it is invisible. Small
//   outputs (nearly all) never pay for the big allocation.
// - stderr keeps its head and its tail: a runtime's out-of-memory line comes last, after
//   whatever the program flooded stderr with, and the verdict looks for it there.
export type OutputStream = 1 | 2;

/** Below this much stdout, chunks are kept as they come and joined at the end (cheap). */
const SPILL_BYTES = 1 << 20;

class StdoutBuffer {
  private chunks: Buffer[] = [];
  private big: Buffer | null = null;
  length = 0;

  constructor(private readonly cap: number) {}

  append(data: Buffer): void {
    if (!this.big && this.length + data.length > SPILL_BYTES && this.cap > SPILL_BYTES) {
      this.big = Buffer.allocUnsafeSlow(this.cap);
      let at = 0;
      for (const chunk of this.chunks) at += chunk.copy(this.big, at);
      this.chunks = [];
    }
    if (this.big) data.copy(this.big, this.length);
    else this.chunks.push(data);
    this.length += data.length;
  }

  bytes(): Buffer {
    return this.big ? this.big.subarray(0, this.length) : Buffer.concat(this.chunks, this.length);
  }
}

class StderrHeadTail {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer[] = [];
  private tailBytes = 0;
  private dropped = 0;

  constructor(private readonly headCap: number, private readonly tailCap: number) {}

  get length(): number {
    return this.headBytes + this.tailBytes;
  }

  append(data: Buffer): void {
    const toHead = Math.min(data.length, this.headCap - this.headBytes);
    if (toHead > 0) {
      this.head.push(data.subarray(0, toHead));
      this.headBytes += toHead;
    }
    const rest = toHead > 0 ? data.subarray(toHead) : data;
    if (rest.length === 0 || this.tailCap === 0) {
      this.dropped += this.tailCap === 0 ? rest.length : 0;
      return;
    }
    this.tail.push(rest);
    this.tailBytes += rest.length;
    while (this.tailBytes - (this.tail[0]?.length ?? 0) >= this.tailCap) {
      const gone = this.tail.shift()!;
      this.tailBytes -= gone.length;
      this.dropped += gone.length;
    }
  }

  bytes(): Buffer {
    let tail = Buffer.concat(this.tail, this.tailBytes);
    if (tail.length > this.tailCap) {
      this.dropped += tail.length - this.tailCap;
      tail = tail.subarray(tail.length - this.tailCap);
      this.tail = [tail];
      this.tailBytes = tail.length;
    }
    const parts = [...this.head];
    if (this.dropped > 0) parts.push(Buffer.from(`\n… (${this.dropped} bytes of stderr not kept) …\n`));
    parts.push(tail);
    return Buffer.concat(parts);
  }
}

export class OutputCapture {
  private readonly stdout: StdoutBuffer;
  private readonly stderr: StderrHeadTail;
  private readonly writtenBytes: Record<OutputStream, number> = { 1: 0, 2: 0 };
  private overflowed = false;

  constructor(
    private readonly limit: number,
    stderrKeep: number,
    private readonly onOverflow: () => void,
  ) {
    this.stdout = new StdoutBuffer(limit);
    const headCap = Math.floor(stderrKeep / 2);
    this.stderr = new StderrHeadTail(headCap, stderrKeep - headCap);
  }

  push(stream: OutputStream, data: Buffer): void {
    this.writtenBytes[stream] += data.length;
    const room = this.limit - this.stdout.length - this.stderr.length;
    if (room > 0) {
      const keep = data.length <= room ? data : data.subarray(0, room);
      if (stream === 1) this.stdout.append(keep);
      else this.stderr.append(keep);
    }
    if (!this.overflowed && this.writtenBytes[1] + this.writtenBytes[2] > this.limit) {
      this.overflowed = true;
      this.onOverflow();
    }
  }

  /** The kept bytes, undecoded (stderr: head, a note of what was cut, tail). */
  bytes(stream: OutputStream): Buffer {
    return stream === 1 ? this.stdout.bytes() : this.stderr.bytes();
  }

  /** Bytes the program wrote, kept or not. */
  written(stream: OutputStream): number {
    return this.writtenBytes[stream];
  }
}
