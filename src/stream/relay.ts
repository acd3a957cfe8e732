/**
 * Upstream body → client body. Pull-driven (highWaterMark 0): we read from Azure only when the
 * client's socket has taken the previous chunk, so a slow reader slows the upstream read
 * instead of filling our memory. Aborts go both ways: the client leaving cancels this stream,
 * which aborts the upstream fetch; Azure breaking mid-stream ends the client's stream with an
 * SSE error event (OpenAI SDKs raise on `data: {"error":...}`), never a silent cut.
 */
import type { StreamEnd } from "../proxy/operations.ts";
import type { EventTransform } from "./fixups.ts";
import type { Tail } from "./usage.ts";
import { endsWithDone, endsWithTerminalEvent, SseFramer, splitEvents } from "./sse-frames.ts";

export type RelayEnd = "complete" | "client_closed" | "upstream_broke" | "upstream_truncated" | "upstream_idle";

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
}

const HEARTBEAT = new TextEncoder().encode(": keep-alive\n\n");

class IdleTimeout extends Error {}
const HEARTBEAT_DUE = Symbol("heartbeat");

type ReadResult<T> = Awaited<ReturnType<ReadableStreamDefaultReader<T>["read"]>>;

/** `read`, or an IdleTimeout once `ms` have passed, or HEARTBEAT_DUE after `beatMs` (when > 0). */
async function within<T>(read: Promise<ReadResult<T>>, ms: number, beatMs = 0): Promise<ReadResult<T> | typeof HEARTBEAT_DUE> {
  const timers: Array<ReturnType<typeof setTimeout>> = [];
  const silence = new Promise<never>((_, reject) => timers.push(setTimeout(() => reject(new IdleTimeout()), ms)));
  const beat = beatMs > 0 && beatMs < ms ? new Promise<typeof HEARTBEAT_DUE>((resolve) => timers.push(setTimeout(() => resolve(HEARTBEAT_DUE), beatMs))) : null;
  try {
    return await Promise.race(beat ? [read, silence, beat] : [read, silence]);
  } finally {
    for (const t of timers) clearTimeout(t);
  }
}

/** The next read, or an IdleTimeout after `ms` of silence. */
async function readWithin<T>(reader: ReadableStreamDefaultReader<T>, ms: number): Promise<ReadResult<T>> {
  return (await within(reader.read(), ms)) as ReadResult<T>;
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
  const { transform, upstreamName, idleMs, heartbeatMs } = options;
  // A read outlives a pull that ended with a heartbeat: the next pull waits on the same read.
  let pending: Promise<ReadResult<Uint8Array>> | null = null;
  let quietSince = Date.now();
  let first = true;
  const send = (controller: ReadableStreamDefaultController<Uint8Array>, bytes: Uint8Array) => {
    if (first) {
      first = false;
      hooks.onFirstChunk();
    }
    controller.enqueue(bytes);
  };

  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          let read: Awaited<ReturnType<typeof reader.read>>;
          try {
            pending ??= reader.read();
            const idleLeft = Math.max(1, idleMs - (Date.now() - quietSince));
            // also before the first event: a reasoning model can think for minutes after the headers
            const next = await within(pending, idleLeft, heartbeatMs);
            if (next === HEARTBEAT_DUE) {
              controller.enqueue(HEARTBEAT);
              return;
            }
            read = next;
            pending = null;
            quietSince = Date.now();
          } catch (error) {
            if (error instanceof IdleTimeout) {
              hooks.abortUpstream();
              reader.cancel().catch(() => {});
              controller.enqueue(errorEvent(`upstream '${upstreamName}' sent nothing for ${idleMs} ms (timeouts.idle_ms)`, "upstream_idle_timeout"));
              controller.close();
              finish("upstream_idle");
              return;
            }
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
          if (!transform) {
            send(controller, events);
            return;
          }
          let sent = false;
          for (const event of splitEvents(events)) {
            const out = transform(event);
            if (out) {
              send(controller, out);
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

/** Relay any other body byte for byte; `tail` (when given) keeps its end, where `usage` is. */
export function relayBody(source: ReadableStream<Uint8Array>, hooks: RelayHooks, idleMs: number, tail?: Tail): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  const finish = once(hooks.onEnd);
  let first = true;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const read = await readWithin(reader, idleMs);
          if (read.done) {
            controller.close();
            finish("complete");
          } else {
            if (first) {
              first = false;
              hooks.onFirstChunk();
            }
            tail?.push(read.value);
            controller.enqueue(read.value);
          }
        } catch (error) {
          // Headers are gone already; erroring the stream makes the client see a cut body
          // (no final chunk), which is the truth, rather than a short "complete" one.
          if (error instanceof IdleTimeout) {
            hooks.abortUpstream();
            reader.cancel().catch(() => {});
          }
          controller.error(error);
          finish(error instanceof IdleTimeout ? "upstream_idle" : "upstream_broke", error);
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
