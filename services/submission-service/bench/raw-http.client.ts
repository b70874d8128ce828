// A minimal keep-alive HTTP/1.1 client for the ingest bench: one request at a time per
// connection, request bytes built once per token, responses framed by Content-Length only
// (Fastify sends it on every JSON reply). On a 2-core machine the load generator shares the
// CPU with the API it measures; node:http's client costs several times what this does per
// request, and every millisecond it spends is one the API does not get.
import { connect, type Socket } from "node:net";

export interface RawResponse {
  status: number;
  body: string;
}

const HEADER_END = Buffer.from("\r\n\r\n");

/** The exact bytes of one POST with a JSON body. */
export function postRequest(url: URL, token: string, body: string): Buffer {
  const head =
    `POST ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nAuthorization: Bearer ${token}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, "latin1"), Buffer.from(body, "utf8")]);
}

/** One connection; `send` must not be called again before its previous answer arrived. */
export class RawConnection {
  private socket: Socket | null = null;
  private buffered: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (response: RawResponse) => void; reject: (error: Error) => void } | null = null;

  constructor(private readonly url: URL) {}

  send(request: Buffer): Promise<RawResponse> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.open().write(request);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private open(): Socket {
    if (this.socket) return this.socket;
    const socket = connect(Number(this.url.port), this.url.hostname);
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      if (this.socket === socket) this.onData(chunk);
    });
    const fail = (error: Error) => {
      // A socket closed after its successor opened must not touch the successor's state.
      if (this.socket !== socket) return;
      this.socket = null;
      this.buffered = Buffer.alloc(0);
      const waiting = this.waiting;
      this.waiting = null;
      waiting?.reject(error);
    };
    socket.on("error", fail);
    socket.on("close", () => fail(new Error("connection closed")));
    this.socket = socket;
    return socket;
  }

  private onData(chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const headerEnd = this.buffered.indexOf(HEADER_END);
    if (headerEnd < 0) return;
    const head = this.buffered.toString("latin1", 0, headerEnd);
    const length = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!length) throw new Error(`response without Content-Length: ${head.slice(0, 200)}`);
    const bodyStart = headerEnd + HEADER_END.length;
    const bodyEnd = bodyStart + Number(length[1]);
    if (this.buffered.length < bodyEnd) return;
    const response = { status: Number(head.slice(9, 12)), body: this.buffered.toString("utf8", bodyStart, bodyEnd) };
    this.buffered = this.buffered.subarray(bodyEnd);
    if (/\r\nconnection:\s*close/i.test(head)) this.close();
    const waiting = this.waiting;
    this.waiting = null;
    waiting?.resolve(response);
  }
}
