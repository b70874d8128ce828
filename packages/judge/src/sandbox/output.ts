// What both engines keep of a run's stdout and stderr: raw bytes (never decoded
// here), at most `limit` bytes in total and at most `stderrKeep` of stderr, with the
// total written counted whether kept or not. The first byte past `limit` calls
// onOverflow once: the engine's output watchdog kills the run.
export type OutputStream = 1 | 2;

export class OutputCapture {
  private readonly chunks: Record<OutputStream, Buffer[]> = { 1: [], 2: [] };
  private readonly keptBytes: Record<OutputStream, number> = { 1: 0, 2: 0 };
  private readonly writtenBytes: Record<OutputStream, number> = { 1: 0, 2: 0 };
  private overflowed = false;

  constructor(
    private readonly limit: number,
    private readonly stderrKeep: number,
    private readonly onOverflow: () => void,
  ) {}

  push(stream: OutputStream, data: Buffer): void {
    this.writtenBytes[stream] += data.length;
    const kept = this.keptBytes[1] + this.keptBytes[2];
    const room = Math.min(this.limit - kept, stream === 2 ? this.stderrKeep - this.keptBytes[2] : Number.POSITIVE_INFINITY);
    if (room > 0) {
      const keep = data.length <= room ? data : data.subarray(0, room);
      this.chunks[stream].push(keep);
      this.keptBytes[stream] += keep.length;
    }
    if (!this.overflowed && this.writtenBytes[1] + this.writtenBytes[2] > this.limit) {
      this.overflowed = true;
      this.onOverflow();
    }
  }

  /** The kept bytes, undecoded. */
  bytes(stream: OutputStream): Buffer {
    return Buffer.concat(this.chunks[stream], this.keptBytes[stream]);
  }

  /** Bytes the program wrote, kept or not. */
  written(stream: OutputStream): number {
    return this.writtenBytes[stream];
  }
}
