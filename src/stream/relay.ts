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
import type { Tail } from "./usage.ts";
import { concatBytes } from "../lib/bytes.ts";
import type { Timers } from "../lib/timers.ts";
import { IdleWatch, type IdleOwner } from "./idle-watch.ts";
import { endsWithDone, endsWithTerminalEvent, SseEventTooLarge, SseFramer, splitEvents } from "./sse-frames.ts";

/** How a stream says it ended properly, so a cut one can be told from a finished one. */
export type StreamEnd = "done-marker" | "terminal-event";

export type RelayEnd = "complete" | "client_closed" | "upstream_broke" | "upstream_truncated" | "upstream_idle" | "upstream_event_too_large";

export interface RelayHooks {
  /** Abort the upstream request (the client went away). */
  abortUpstream(): void;
  /** The first bytes of the answer are on their way to the client. */
  onFirstChunk(): void;
  /** Called exactly once, however the relay ends. */
  onEnd(end: RelayEnd, error?: unknown): void;
}

/** Registers what ends the relay when the proxy cuts it (a shutdown's end of grace); at once if it was cut already. */
export type OnCut = (end: () => void) => void;

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

class IdleTimeout extends Error {}

const encoder = new TextEncoder();

export function errorEvent(message: string, code: string): Uint8Array {
  const body = { error: { message, type: "upstream_error", param: null, code } };
  return encoder.encode(`data: ${JSON.stringify(body)}\n\n`);
}

type Read = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;

/** What both relays share: the pull loop's shape, the idle watch, the cut, one end. */
abstract class Relay implements UnderlyingDefaultSource<Uint8Array>, IdleOwner {
  protected controller!: ReadableStreamDefaultController<Uint8Array>;
  protected reader: ReadableStreamDefaultReader<Uint8Array>;
  protected over = false;
  protected first = true;
  protected readonly watch: IdleWatch;
  private cut: OnCut | undefined;
  private readonly onRead = (read: Read): Promise<void> | undefined => {
    this.watch.got();
    // the idle limit (or the client) ended the relay while this read was waiting
    if (this.over) return;
    try {
      return this.take(read);
    } catch (error) {
      // a defect in a transform or a hook: the client's stream errors, and the relay still
      // ends once (its slot and in-flight entry released) instead of waiting for a cut
      this.hooks.abortUpstream();
      this.reader.cancel().catch(() => {});
      try {
        this.controller.error(error);
      } catch {
        // closed already
      }
      this.finish("upstream_broke", error);
      return;
    }
  };
  private readonly onReadError = (error: unknown): void => {
    this.watch.got();
    if (!this.over) this.broke(error);
  };

  constructor(
    source: ReadableStream<Uint8Array>,
    protected readonly hooks: RelayHooks,
    idleMs: number,
    heartbeatMs: number,
    timers: Timers | undefined,
    cut: OnCut | undefined,
  ) {
    this.reader = source.getReader();
    // also before the first chunk: a reasoning model can think for minutes after the headers
    this.watch = new IdleWatch(idleMs, heartbeatMs, this, timers);
    this.cut = cut;
  }

  start(controller: ReadableStreamDefaultController<Uint8Array>): void {
    this.controller = controller;
    // The fetch's abort alone does not always end a pending body read on Deno (the stream went
    // on after a cut: ops.test.ts, "a stream longer than the grace period"), so a cut also
    // stops the read here and ends the client's stream.
    this.cut?.(() => {
      if (this.over) return;
      this.reader.cancel().catch(() => {});
      this.wasCut();
    });
    this.cut = undefined;
  }

  pull(): Promise<void> | undefined {
    return this.read();
  }

  cancel(): void {
    this.hooks.abortUpstream();
    this.reader.cancel().catch(() => {});
    this.finish("client_closed");
  }

  onIdle(): void {
    this.hooks.abortUpstream();
    this.reader.cancel().catch(() => {});
    this.idle();
  }

  onBeat(): void {}

  /** The next upstream read; its result goes to `take`. */
  protected read(): Promise<void> {
    this.watch.wait();
    return this.reader.read().then(this.onRead, this.onReadError);
  }

  protected finish(end: RelayEnd, error?: unknown): void {
    if (this.over) return;
    this.over = true;
    this.watch.stop();
    this.hooks.onEnd(end, error);
  }

  protected firstChunk(): void {
    if (!this.first) return;
    this.first = false;
    this.hooks.onFirstChunk();
  }

  /** A read came (the relay is not over); a promise when it reads on before sending anything. */
  protected abstract take(read: Read): Promise<void> | undefined;
  protected abstract broke(error: unknown): void;
  protected abstract idle(): void;
  protected abstract wasCut(): void;
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
  return out.length === 0 ? null : out.length === 1 ? out[0]! : concatBytes(out);
}

/** Relay any other body byte for byte; `tail` (when given) keeps its end, where `usage` is. */
export function relayBody(
  source: ReadableStream<Uint8Array>,
  hooks: RelayHooks,
  idleMs: number,
  tail?: Tail,
  cut?: OnCut,
  timers?: Timers,
): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>(new BodyRelay(source, hooks, idleMs, tail, cut, timers), { highWaterMark: 0 });
}

class BodyRelay extends Relay {
  constructor(
    source: ReadableStream<Uint8Array>,
    hooks: RelayHooks,
    idleMs: number,
    private readonly tail: Tail | undefined,
    cut: OnCut | undefined,
    timers: Timers | undefined,
  ) {
    super(source, hooks, idleMs, 0, timers, cut);
  }

  protected take(read: Read): undefined {
    if (read.done) {
      this.controller.close();
      this.finish("complete");
      return;
    }
    this.firstChunk();
    this.tail?.push(read.value);
    this.controller.enqueue(read.value);
  }

  // Headers are gone already; erroring the stream makes the client see a cut body (no final
  // chunk), which is the truth, rather than a short "complete" one.
  protected broke(error: unknown): void {
    this.fail("upstream_broke", error);
  }

  protected idle(): void {
    this.fail("upstream_idle", new IdleTimeout());
  }

  protected wasCut(): void {
    this.fail("upstream_broke", new Error("the proxy is shutting down"));
  }

  private fail(end: RelayEnd, error: unknown): void {
    this.controller.error(error);
    this.finish(end, error);
  }
}
