/**
 * Cuts an SSE byte stream at event boundaries (a blank line), without decoding it: bytes are
 * passed on exactly as they came, so a multi-byte UTF-8 character split across TCP reads is
 * simply carried over to the next read. Holding back at most one partial event is what lets
 * the relay end a broken stream with a clean error event instead of half a JSON line.
 *
 * Cost per read: when a read ends on a boundary (Azure's usual write) the chunk is passed on
 * as is, after checking its last 2-4 bytes; otherwise one backward scan of that read only. A
 * partial event is kept as its reads, joined once when it completes: an event spread over many
 * reads is never copied or rescanned per read. An event that grows past `maxEventBytes`
 * (default 16 MiB) is no event a client can use: push throws SseEventTooLarge.
 */
import { concatBytes } from "../lib/bytes.ts";

const LF = 0x0a;
const CR = 0x0d;
export const MAX_EVENT_BYTES = 16 * 1024 * 1024;

export class SseEventTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`an SSE event grew past ${limit} bytes without ending`);
  }
}

export class SseFramer {
  /** The reads of the event that has not ended yet. */
  private pending: Uint8Array[] = [];
  private pendingBytes = 0;

  constructor(private readonly maxEventBytes = MAX_EVENT_BYTES) {}

  /** Complete events from this read (possibly empty). */
  push(chunk: Uint8Array): Uint8Array | null {
    if (chunk.byteLength === 0) return null;
    if (this.pendingBytes === 0) {
      const cut = lastBoundary(chunk);
      if (cut === chunk.length) return chunk;
      this.hold(cut === 0 ? chunk : chunk.slice(cut));
      return cut === 0 ? null : chunk.subarray(0, cut);
    }
    // a boundary may straddle the previous read: look at its last 3 bytes with this one
    const before = this.lastBytes(3);
    const probe = concatBytes([before, chunk.subarray(0, Math.min(chunk.length, 4))]);
    let cut = lastBoundary(chunk);
    if (cut === 0) {
      const early = lastBoundary(probe);
      if (early > before.length) cut = early - before.length;
    }
    if (cut === 0) {
      this.hold(chunk);
      return null;
    }
    const events = concatBytes([...this.pending, chunk.subarray(0, cut)]);
    this.pending = [];
    this.pendingBytes = 0;
    if (cut < chunk.length) this.hold(chunk.slice(cut));
    return events;
  }

  /** Bytes of an event that never ended, if any. */
  get partial(): number {
    return this.pendingBytes;
  }

  private hold(bytes: Uint8Array): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.byteLength;
    if (this.pendingBytes > this.maxEventBytes) {
      this.pending = [];
      this.pendingBytes = 0;
      throw new SseEventTooLarge(this.maxEventBytes);
    }
  }

  private lastBytes(n: number): Uint8Array {
    const out: number[] = [];
    for (let i = this.pending.length - 1; i >= 0 && out.length < n; i--) {
      const part = this.pending[i]!;
      for (let j = part.length - 1; j >= 0 && out.length < n; j--) out.unshift(part[j]!);
    }
    return Uint8Array.from(out);
  }
}

/** Index just past the last blank line ("\n\n" or "\r\n\r\n"), or 0 when there is none. */
export function lastBoundary(data: Uint8Array): number {
  for (let i = data.length - 1; i >= 1; i--) {
    if (data[i] !== LF) continue;
    if (data[i - 1] === LF) return i + 1;
    if (data[i - 1] === CR && i >= 3 && data[i - 2] === LF && data[i - 3] === CR) return i + 1;
  }
  return 0;
}

/** The complete events of a batch, one by one (each ends with its blank line). */
export function splitEvents(batch: Uint8Array): Uint8Array[] {
  const events: Uint8Array[] = [];
  let start = 0;
  // indexOf scans natively: an event has a line or two, so a few calls instead of a JS loop per byte
  for (let i = batch.indexOf(LF, 1); i !== -1; i = batch.indexOf(LF, i + 1)) {
    if (batch[i - 1] === LF || (batch[i - 1] === CR && i >= 3 && batch[i - 2] === LF && batch[i - 3] === CR)) {
      // a read of one event (the usual) is passed on as itself
      events.push(start === 0 && i === batch.length - 1 ? batch : batch.subarray(start, i + 1));
      start = i + 1;
    }
  }
  return events;
}

const TERMINAL_EVENT = /^event: ?(response\.(completed|failed|incomplete)|error)\r?$/m;
const decoder = new TextDecoder();

/** Whether the last of these events ends a Responses API stream (its `event:` line says so). */
export function endsWithTerminalEvent(events: Uint8Array): boolean {
  const all = splitEvents(events);
  const last = all[all.length - 1];
  return last !== undefined && TERMINAL_EVENT.test(decoder.decode(last));
}

const DONE = new TextEncoder().encode("data: [DONE]");

/** Whether these complete events end with OpenAI's `data: [DONE]` terminator. */
export function endsWithDone(events: Uint8Array): boolean {
  let end = events.length;
  while (end > 0 && (events[end - 1] === LF || events[end - 1] === CR)) end--;
  if (end < DONE.length) return false;
  for (let i = 0; i < DONE.length; i++) if (events[end - DONE.length + i] !== DONE[i]) return false;
  return true;
}
