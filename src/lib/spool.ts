/**
 * A request body kept for sending upstream (and sending again, when a later attempt needs it)
 * without holding a large upload in memory: the first MEMORY_LIMIT bytes stay in memory, the
 * rest goes to a temporary file that is unlinked as soon as it is opened, so it vanishes with
 * the process even on a crash. Reads are positional, so any range can be streamed any number
 * of times. Its bytes count on a Claim (limits.max_spool_bytes), given back when it is disposed.
 */
import { open, unlink, type FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Claim } from "./byte-budget.ts";
import { concatBytes } from "./bytes.ts";

const MEMORY_LIMIT = 1024 * 1024;
const READ_CHUNK = 64 * 1024;

export class Spool {
  private memory: Uint8Array[] = [];
  private file: FileHandle | null = null;
  private size = 0;

  /** `claim`: the reader counts bytes on it before appending them; the spool only gives them back. */
  constructor(readonly claim: Claim) {}

  get byteLength(): number {
    return this.size;
  }

  async append(chunk: Uint8Array): Promise<void> {
    if (this.file === null && this.size + chunk.byteLength > MEMORY_LIMIT) {
      const path = join(tmpdir(), `azure-proxy-${crypto.randomUUID()}`);
      this.file = await open(path, "w+", 0o600);
      await unlink(path);
      const buffered = concatBytes(this.memory);
      await this.file.write(buffered, 0, buffered.byteLength, 0);
      this.memory = [];
    }
    if (this.file) await this.file.write(chunk, 0, chunk.byteLength, this.size);
    else this.memory.push(chunk);
    this.size += chunk.byteLength;
  }

  /** A fresh stream of bytes [start, end). */
  range(start: number, end: number): ReadableStream<Uint8Array> {
    if (this.file === null) {
      const all = concatBytes(this.memory);
      this.memory = [all];
      return new ReadableStream({
        start(controller) {
          if (end > start) controller.enqueue(all.subarray(start, end));
          controller.close();
        },
      });
    }
    const file = this.file;
    let at = start;
    return new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          if (at >= end) return controller.close();
          const buffer = new Uint8Array(Math.min(READ_CHUNK, end - at));
          const { bytesRead } = await file.read(buffer, 0, buffer.byteLength, at);
          if (bytesRead === 0) return controller.error(new Error("spool file shorter than expected"));
          at += bytesRead;
          controller.enqueue(buffer.subarray(0, bytesRead));
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** Bytes [start, end) in memory: for the small text fields of a form, never a file part. */
  async slice(start: number, end: number): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    for await (const part of this.range(start, end)) parts.push(part);
    return concatBytes(parts);
  }

  async dispose(): Promise<void> {
    this.claim.release();
    this.memory = [];
    const file = this.file;
    this.file = null;
    await file?.close();
  }
}
