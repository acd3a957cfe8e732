/**
 * One HTTP/1.1 request over a raw socket whose body the test writes at its own pace: part of it
 * and then nothing (a stalled upload), or far more than the proxy takes, written on while the
 * answer arrives (what curl, fetch and the openai SDK do). Reports the answer as the client saw
 * it, and whether any write failed (EPIPE / ECONNRESET: an answer the client may never read).
 */
import { connect, type Socket } from "node:net";

export interface RawAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Since the request was opened. */
  readonly ms: number;
  /** Body bytes written when the answer's first byte arrived. */
  readonly writtenAtAnswer: number;
}

export interface HeldRequest {
  /** The complete answer (head and Content-Length body); rejects if the socket dies first. */
  readonly answer: Promise<RawAnswer>;
  write(bytes: Uint8Array | string): Promise<void>;
  /** Write body bytes until `total` were written (chunked framing when asked), answer or not: a client that is not listening yet. */
  keepWriting(total: number): Promise<void>;
  written(): number;
  /** The first write error, if any. */
  writeError(): string | null;
  /** Resolves when the peer has closed the connection. */
  readonly closed: Promise<void>;
  destroy(): void;
}

/** `head`: request line and headers, without the blank line that ends them. */
export function holdRequest(port: number, head: string, { chunked = false } = {}): HeldRequest {
  const socket: Socket = connect(port, "127.0.0.1");
  const started = performance.now();
  let raw = Buffer.alloc(0);
  let written = 0;
  let writtenAtAnswer = -1;
  let writeError: string | null = null;
  let done = false;
  const { promise: answer, resolve: resolveAnswer, reject: rejectAnswer } = Promise.withResolvers<RawAnswer>();
  // a test that destroys the socket on purpose need not await the answer
  answer.catch(() => {});
  const closed = new Promise<void>((resolve) => socket.on("close", () => resolve()));
  socket.on("data", (chunk: Buffer) => {
    if (writtenAtAnswer === -1) writtenAtAnswer = written;
    raw = Buffer.concat([raw, chunk]);
    const end = raw.indexOf("\r\n\r\n");
    if (end === -1 || done) return;
    const lines = raw.subarray(0, end).toString("latin1").split("\r\n");
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers["content-length"] ?? 0);
    if (raw.byteLength - end - 4 < length) return;
    done = true;
    resolveAnswer({
      status: Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0]!)?.[1] ?? 0),
      headers,
      body: raw.subarray(end + 4, end + 4 + length).toString("utf8"),
      ms: performance.now() - started,
      writtenAtAnswer,
    });
  });
  socket.on("error", (error) => {
    writeError ??= String(error);
    rejectAnswer(error);
  });
  socket.on("close", () => {
    if (!done) rejectAnswer(new Error(`connection closed before a complete answer; received: ${raw.toString("utf8").slice(0, 200)}`));
  });
  socket.write(`${head}\r\nhost: 127.0.0.1\r\n\r\n`);

  const write = (bytes: Uint8Array | string) =>
    new Promise<void>((resolve) => {
      const size = typeof bytes === "string" ? Buffer.byteLength(bytes) : bytes.byteLength;
      if (socket.destroyed) return resolve();
      const framed = chunked ? Buffer.concat([Buffer.from(`${size.toString(16)}\r\n`), Buffer.from(bytes), Buffer.from("\r\n")]) : bytes;
      written += size;
      // resolve on drain: the kernel took it, and the peer is reading (or its buffers are full)
      const wrote = socket.write(framed, (error) => {
        if (error) writeError ??= String(error);
      });
      if (wrote) return resolve();
      const settle = () => {
        socket.off("drain", settle).off("close", settle);
        resolve();
      };
      socket.on("drain", settle).on("close", settle);
    });

  return {
    answer,
    write,
    async keepWriting(total) {
      const piece = new Uint8Array(64 * 1024).fill(120);
      while (written < total && !socket.destroyed) await write(piece.subarray(0, Math.min(piece.byteLength, total - written)));
    },
    written: () => written,
    writeError: () => writeError,
    closed,
    destroy: () => socket.destroy(),
  };
}
