/**
 * Upstream body → client body. Pull-driven (highWaterMark 0): we read from Azure only when the
 * client's socket has taken the previous chunk, so a slow reader slows the upstream read
 * instead of filling our memory. Aborts go both ways: the client leaving cancels this stream,
 * which aborts the upstream fetch; Azure breaking mid-stream ends the client's stream with an
 * SSE error event (OpenAI SDKs raise on `data: {"error":...}`), never a silent cut.
 */
import type { EventTransform } from "./fixups.ts";
import type { Tail } from "./usage.ts";
import { concatBytes } from "../lib/bytes.ts";
import type { Timers } from "../lib/timers.ts";
import { IdleWatch } from "./idle-watch.ts";
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
  /** Fires when the proxy cuts the stream (a shutdown's end of grace). */
  readonly cut?: AbortSignal;
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

/**
 * Relay an SSE stream, each upstream read's complete events as one chunk: they are sent as
 * soon as they are complete, and one write per read (not per event) is what the client's
 * socket and our CPU are cheapest with.
 */
export function relaySse(source: ReadableStream<Uint8Array>, hooks: RelayHooks, options: SseOptions): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const framer = new SseFramer();
  const ended = options.end === "done-marker" ? endsWithDone : endsWithTerminalEvent;
  let sawEnd = false;
  const { transform, upstreamName, idleMs, heartbeatMs } = options;
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let over = false;
  const finish = once((end: RelayEnd, error?: unknown) => {
    over = true;
    watch.stop();
    hooks.onEnd(end, error);
  });
  const endWith = (event: Uint8Array, end: RelayEnd, error?: unknown) => {
    controller.enqueue(event);
    controller.close();
    finish(end, error);
  };
  // also before the first event: a reasoning model can think for minutes after the headers
  const watch = new IdleWatch(
    idleMs,
    heartbeatMs,
    () => {
      hooks.abortUpstream();
      reader.cancel().catch(() => {});
      endWith(errorEvent(`upstream '${upstreamName}' sent nothing for ${idleMs} ms (timeouts.idle_ms)`, "upstream_idle_timeout"), "upstream_idle");
    },
    () => {
      // Only while the client's last chunk has been taken: a reader that stopped reading gets
      // no pile of comments, at most the one it has not read yet.
      if ((controller.desiredSize ?? 0) >= 0) controller.enqueue(HEARTBEAT);
    },
    options.timers,
  );
  let first = true;
  // The fetch's abort alone does not always end a pending body read on Deno (the stream went
  // on after a cut: ops.test.ts, "a stream longer than the grace period"), so a cut also stops
  // the read here and ends the client's stream with an error event.
  options.cut?.addEventListener(
    "abort",
    () => {
      if (over) return;
      reader.cancel().catch(() => {});
      endWith(errorEvent("the proxy is shutting down: the stream was cut before it ended", "stream_cut_at_shutdown"), "upstream_broke");
    },
    { once: true },
  );

  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      async pull() {
        for (;;) {
          let read: Awaited<ReturnType<typeof reader.read>>;
          try {
            watch.wait();
            read = await reader.read();
            watch.got();
          } catch (error) {
            if (!over)
              endWith(errorEvent(`the stream from upstream '${upstreamName}' broke before it ended`, "upstream_stream_broken"), "upstream_broke", error);
            return;
          }
          // the idle limit (or the client) ended the relay while this read was waiting
          if (over) return;
          if (read.done) {
            if (framer.partial > 0 || !sawEnd) {
              endWith(errorEvent(`upstream '${upstreamName}' closed the stream before it was complete`, "upstream_stream_truncated"), "upstream_truncated");
              return;
            }
            controller.close();
            finish("complete");
            return;
          }
          let events: Uint8Array | null;
          try {
            events = framer.push(read.value);
          } catch (error) {
            if (!(error instanceof SseEventTooLarge)) throw error;
            hooks.abortUpstream();
            reader.cancel().catch(() => {});
            endWith(
              errorEvent(`upstream '${upstreamName}' sent an SSE event larger than ${error.limit} bytes`, "upstream_event_too_large"),
              "upstream_event_too_large",
              error,
            );
            return;
          }
          if (!events) continue;
          sawEnd = ended(events);
          const out = transform ? transformBatch(events, transform) : events;
          if (!out) continue;
          if (first) {
            first = false;
            hooks.onFirstChunk();
          }
          controller.enqueue(out);
          return;
        }
      },
      cancel() {
        hooks.abortUpstream();
        reader.cancel().catch(() => {});
        finish("client_closed");
      },
    },
    { highWaterMark: 0 },
  );
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
  cut?: AbortSignal,
  timers?: Timers,
): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let over = false;
  const finish = once((end: RelayEnd, error?: unknown) => {
    over = true;
    watch.stop();
    hooks.onEnd(end, error);
  });
  // Headers are gone already; erroring the stream makes the client see a cut body (no final
  // chunk), which is the truth, rather than a short "complete" one.
  const fail = (end: RelayEnd, error: unknown) => {
    controller.error(error);
    finish(end, error);
  };
  const watch = new IdleWatch(
    idleMs,
    0,
    () => {
      hooks.abortUpstream();
      reader.cancel().catch(() => {});
      fail("upstream_idle", new IdleTimeout());
    },
    undefined,
    timers,
  );
  let first = true;
  // as in relaySse: a cut ends the relay even when the fetch's abort does not reach the read
  cut?.addEventListener(
    "abort",
    () => {
      if (over) return;
      reader.cancel().catch(() => {});
      fail("upstream_broke", new Error("the proxy is shutting down"));
    },
    { once: true },
  );
  return new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      async pull() {
        let read: Awaited<ReturnType<typeof reader.read>>;
        try {
          watch.wait();
          read = await reader.read();
          watch.got();
        } catch (error) {
          if (!over) fail("upstream_broke", error);
          return;
        }
        if (over) return;
        if (read.done) {
          controller.close();
          finish("complete");
          return;
        }
        if (first) {
          first = false;
          hooks.onFirstChunk();
        }
        tail?.push(read.value);
        controller.enqueue(read.value);
      },
      cancel() {
        hooks.abortUpstream();
        reader.cancel().catch(() => {});
        finish("client_closed");
      },
    },
    { highWaterMark: 0 },
  );
}

function once<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  let called = false;
  return (...args) => {
    if (called) return;
    called = true;
    fn(...args);
  };
}
