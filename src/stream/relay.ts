/**
 * Upstream body → client body. Pull-driven (highWaterMark 0): we read from Azure only when the
 * client's socket has taken the previous chunk, so a slow reader slows the upstream read
 * instead of filling our memory. Aborts go both ways: the client leaving cancels this stream,
 * which aborts the upstream fetch; Azure breaking mid-stream ends the client's stream with an
 * SSE error event (OpenAI SDKs raise on `data: {"error":...}`), never a silent cut.
 */
import type { StreamEnd } from "../proxy/operations.ts";
import type { EventFilter } from "./fixups.ts";
import { endsWithDone, endsWithTerminalEvent, SseFramer, splitEvents } from "./sse-frames.ts";

export type RelayEnd = "complete" | "client_closed" | "upstream_broke" | "upstream_truncated";

export interface RelayHooks {
  /** Abort the upstream request (the client went away). */
  abortUpstream(): void;
  /** Called exactly once, however the relay ends. */
  onEnd(end: RelayEnd, error?: unknown): void;
}

export interface SseOptions {
  readonly upstreamName: string;
  /** How a complete stream ends, so a cut one is reported instead of passed off as whole. */
  readonly end: StreamEnd;
  /** Drops events the client must not see (stream fix-ups); absent: every byte goes through. */
  readonly filter?: EventFilter;
}

const encoder = new TextEncoder();

export function errorEvent(message: string, code: string): Uint8Array {
  const body = { error: { message, type: "upstream_error", param: null, code } };
  return encoder.encode(`data: ${JSON.stringify(body)}\n\n`);
}

/** Relay an SSE stream event by event. */
export function relaySse(source: ReadableStream<Uint8Array>, hooks: RelayHooks, options: SseOptions): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const framer = new SseFramer();
  const ended = options.end === "done-marker" ? endsWithDone : endsWithTerminalEvent;
  let sawEnd = false;
  const finish = once(hooks.onEnd);
  const { filter, upstreamName } = options;

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          let read: Awaited<ReturnType<typeof reader.read>>;
          try {
            read = await reader.read();
          } catch (error) {
            controller.enqueue(errorEvent(`the stream from upstream '${upstreamName}' broke before it ended`, "upstream_stream_broken"));
            controller.close();
            finish("upstream_broke", error);
            return;
          }
          if (read.done) {
            if (framer.partial > 0 || !sawEnd) {
              controller.enqueue(errorEvent(`upstream '${upstreamName}' closed the stream before it was complete`, "upstream_stream_truncated"));
              controller.close();
              finish("upstream_truncated");
              return;
            }
            controller.close();
            finish("complete");
            return;
          }
          const events = framer.push(read.value);
          if (!events) continue;
          sawEnd = ended(events);
          if (!filter) {
            controller.enqueue(events);
            return;
          }
          let sent = false;
          for (const event of splitEvents(events)) {
            if (filter(event)) {
              controller.enqueue(event);
              sent = true;
            }
          }
          if (sent) return;
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

/** Relay any other body byte for byte, with the same abort and end handling. */
export function relayBody(source: ReadableStream<Uint8Array>, hooks: RelayHooks): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const finish = once(hooks.onEnd);
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const read = await reader.read();
          if (read.done) {
            controller.close();
            finish("complete");
          } else {
            controller.enqueue(read.value);
          }
        } catch (error) {
          // Headers are gone already; erroring the stream makes the client see a cut body
          // (no final chunk), which is the truth, rather than a short "complete" one.
          controller.error(error);
          finish("upstream_broke", error);
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

function once<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void {
  let called = false;
  return (...args) => {
    if (called) return;
    called = true;
    fn(...args);
  };
}
