/**
 * Upstream body → client body. Pull-driven (highWaterMark 0): we read from Azure only when the
 * client's socket has taken the previous chunk, so a slow reader slows the upstream read
 * instead of filling our memory. Aborts go both ways: the client leaving cancels this stream,
 * which aborts the upstream fetch; Azure breaking mid-stream ends the client's stream with an
 * SSE error event (OpenAI SDKs raise on `data: {"error":...}`), never a silent cut.
 *
 * A relay is one object (the stream's underlying source, its idle watch's owner) rather than a
 * dozen closures, and a read is a `then` on the reader's promise rather than an async `pull`:
 * with 1000 streams open, what each stream holds and what each event allocates is paid 1000
 * times over, in memory and in garbage collection (bench/relay-cost.ts).
 */
import type { EventTransform } from "./fixups.ts";
import { concatBytes } from "../lib/bytes.ts";
import type { Timers } from "../lib/timers.ts";
import { type OnCut, type Read, Relay, type RelayEnd, type RelayHooks, type StreamEnd } from "./relay-base.ts";
import { endsWithDone, endsWithTerminalEvent, SseEventTooLarge, SseFramer, splitEvents } from "./sse-frames.ts";

export type { OnCut, RelayEnd, RelayHooks, StreamEnd } from "./relay-base.ts";
export { relayBody } from "./body-relay.ts";

export interface SseOptions {
  readonly upstreamName: string;
  /** How a complete stream ends, so a cut one is reported instead of passed off as whole. */
  readonly end: StreamEnd;
  /** Changes or drops events (fix-ups, usage); absent: every byte goes through as it came. */
  readonly transform?: EventTransform;
  /** Longest silence between two upstream chunks before the stream is ended (timeouts.idle_ms). */
  readonly idleMs: number;
  /**
   * While the upstream is quiet, send an SSE comment this often (0: never), so buffering
   * proxies' read timeouts (nginx: 60 s by default) and clients' idle timers do not fire.
   * Comments are ignored by SSE parsers (WHATWG HTML §9.2.6: a line starting with ':').
   */
  readonly heartbeatMs: number;
  /** The proxy cutting the stream (a shutdown's end of grace). */
  readonly cut?: OnCut;
  /** The idle limit's and heartbeats' clock; the runtime's unless a test moves one by hand. */
  readonly timers?: Timers;
}

const HEARTBEAT = new TextEncoder().encode(": keep-alive\n\n");

const encoder = new TextEncoder();

export function errorEvent(message: string, code: string): Uint8Array {
  const body = { error: { message, type: "upstream_error", param: null, code } };
  return encoder.encode(`data: ${JSON.stringify(body)}\n\n`);
}

/**
 * Relay an SSE stream, each upstream read's complete events as one chunk: they are sent as
 * soon as they are complete, and one write per read (not per event) is what the client's
 * socket and our CPU are cheapest with.
 */
export function relaySse(source: ReadableStream<Uint8Array>, hooks: RelayHooks, options: SseOptions): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(new SseRelay(source, hooks, options), { highWaterMark: 0 });
}

class SseRelay extends Relay {
  private readonly framer = new SseFramer();
  private readonly ended: (events: Uint8Array) => boolean;
  private sawEnd = false;
  private readonly upstreamName: string;
  private readonly idleMs: number;
  private readonly transform: EventTransform | undefined;

  constructor(source: ReadableStream<Uint8Array>, hooks: RelayHooks, options: SseOptions) {
    super(source, hooks, options.idleMs, options.heartbeatMs, options.timers, options.cut);
    this.ended = options.end === "done-marker" ? endsWithDone : endsWithTerminalEvent;
    this.upstreamName = options.upstreamName;
    this.idleMs = options.idleMs;
    this.transform = options.transform;
  }

  override onBeat(): void {
    // Only while the client's last chunk has been taken: a reader that stopped reading gets
    // no pile of comments, at most the one it has not read yet.
    if ((this.controller.desiredSize ?? 0) >= 0) this.controller.enqueue(HEARTBEAT);
  }

  protected take(read: Read): Promise<void> | undefined {
    if (read.done) {
      if (this.framer.partial > 0 || !this.sawEnd) {
        this.endWith(errorEvent(`upstream '${this.upstreamName}' closed the stream before it was complete`, "upstream_stream_truncated"), "upstream_truncated");
        return;
      }
      this.controller.close();
      this.finish("complete");
      return;
    }
    let events: Uint8Array | null;
    try {
      events = this.framer.push(read.value);
    } catch (error) {
      if (!(error instanceof SseEventTooLarge)) throw error;
      this.hooks.abortUpstream();
      this.reader.cancel().catch(() => {});
      this.endWith(
        errorEvent(`upstream '${this.upstreamName}' sent an SSE event larger than ${error.limit} bytes`, "upstream_event_too_large"),
        "upstream_event_too_large",
        error,
      );
      return;
    }
    if (!events) return this.read();
    this.sawEnd = this.ended(events);
    const out = this.transform ? transformBatch(events, this.transform) : events;
    if (!out) return this.read();
    const letGo = this.sawEnd ? this.hooks.beforeEnd?.() : undefined;
    if (letGo instanceof Promise) return letGo.then(() => this.send(out));
    this.send(out);
  }

  private send(out: Uint8Array): void {
    // the client may have left (or the idle limit fired) while the end waited
    if (this.over) return;
    this.firstChunk();
    this.controller.enqueue(out);
  }

  protected broke(error: unknown): void {
    this.endWith(errorEvent(`the stream from upstream '${this.upstreamName}' broke before it ended`, "upstream_stream_broken"), "upstream_broke", error);
  }

  protected idle(): void {
    this.endWith(errorEvent(`upstream '${this.upstreamName}' sent nothing for ${this.idleMs} ms (timeouts.idle_ms)`, "upstream_idle_timeout"), "upstream_idle");
  }

  protected wasCut(): void {
    this.endWith(errorEvent("the proxy is shutting down: the stream was cut before it ended", "stream_cut_at_shutdown"), "upstream_broke");
  }

  private endWith(event: Uint8Array, end: RelayEnd, error?: unknown): void {
    this.controller.enqueue(event);
    this.controller.close();
    this.finish(end, error);
  }
}

/** A batch of events after `transform`, as one chunk: the batch itself when no event changed. */
function transformBatch(batch: Uint8Array, transform: EventTransform): Uint8Array | null {
  const events = splitEvents(batch);
  // null until an event is changed or dropped; then the events to send
  let out: Uint8Array[] | null = null;
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    const result = transform(event);
    if (out === null) {
      if (result === event) continue;
      out = events.slice(0, i);
    }
    if (result) out.push(result);
  }
  if (out === null) return batch;
  return out.length === 0 ? null : concatBytes(out);
}
