/**
 * Where log lines go: standard output, a batch at a time. The access log writes a line per
 * request, and one write(2) per line through console.log is a system call per request (bench/cpu.ts
 * from source: 106 µs per request at LOG_LEVEL=info, 93 at warn, in one run; batched, the line's
 * cost is inside the run-to-run noise of about 3 µs). Lines are kept in order and written together
 * within a few milliseconds, at once when the batch is large, and at once for a warning or an
 * error (with everything before it), so what explains a failure is out before anything else
 * happens. The process's exit (or crash) writes what is left; only a kill -9 can lose the last batch.
 */
import { writeSync } from "node:fs";

export interface LineWriter {
  write(line: string, urgent?: boolean): void;
  /** Everything buffered, written now (synchronously). */
  flush(): void;
}

const STDOUT = 1;
const FLUSH_AFTER_MS = 10;
/** Characters, not bytes: about 64 KB for the ASCII that log lines mostly are. */
const FLUSH_AT_CHARS = 64 * 1024;

export function batchedLines(fd = STDOUT): LineWriter {
  let pending = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    if (pending === "") return;
    const text = pending;
    pending = "";
    writeAll(fd, text);
  };
  return {
    write(line, urgent = false) {
      pending += `${line}\n`;
      if (urgent || pending.length >= FLUSH_AT_CHARS) flush();
      else if (timer === undefined) {
        timer = setTimeout(flush, FLUSH_AFTER_MS);
        // a batch waiting to be written is no reason to stay alive: the exit writes it
        (timer as { unref?: () => void }).unref?.();
      }
    },
    flush,
  };
}

// POSIX writes at most PIPE_BUF (4096 on Linux) bytes to a pipe in one piece: the cluster's
// workers share the primary's stdout (cluster/primary.ts), so a bigger write could be split by
// another process's lines when the pipe is full. A batch goes out in whole lines of at most this.
const ATOMIC_BYTES = 4096;
const NEWLINE = 0x0a;

function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text);
  for (let at = 0; at < bytes.length; ) {
    let end = bytes.length;
    if (end - at > ATOMIC_BYTES) {
      const last = bytes.lastIndexOf(NEWLINE, at + ATOMIC_BYTES - 1);
      // a line longer than that goes alone, as one write
      end = last >= at ? last + 1 : bytes.indexOf(NEWLINE, at + ATOMIC_BYTES) + 1 || bytes.length;
    }
    if (!writePiece(fd, bytes, at, end)) return;
    at = end;
  }
}

// a 1 ms synchronous pause while stdout is full (the lines must keep their order; the event loop waits)
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/** False when the descriptor refuses for good (closed): the rest of the batch cannot go either. */
function writePiece(fd: number, bytes: Buffer, from: number, to: number): boolean {
  for (let at = from; at < to; ) {
    try {
      at += writeSync(fd, bytes, at, to - at);
    } catch (error) {
      // a non-blocking pipe that is full: wait for it rather than drop lines
      if ((error as NodeJS.ErrnoException).code !== "EAGAIN") return false;
      Atomics.wait(PAUSE, 0, 0, 1);
    }
  }
  return true;
}

let stdoutWriter: LineWriter | undefined;

/** The process's one standard-output writer, flushed when the process exits. */
export function stdoutLines(): LineWriter {
  if (!stdoutWriter) {
    const writer = batchedLines(STDOUT);
    process.on("exit", () => writer.flush());
    // Deno emits no "exit" for an uncaught error, and the lines just before a crash are the ones
    // that explain it: its error events come first and, not prevented, still end the process
    // (Bun fires neither event here; its "exit" above covers a crash)
    globalThis.addEventListener?.("error", () => writer.flush());
    globalThis.addEventListener?.("unhandledrejection", () => writer.flush());
    stdoutWriter = writer;
  }
  return stdoutWriter;
}
