/**
 * What the SSE relay (relay.ts) and the byte-for-byte relay (body-relay.ts) share: the hooks
 * they report through, how they end, and the pull loop's shape (one upstream read per client
 * read, the idle watch, the shutdown cut, exactly one end). relay.ts says why it is one object
 * per stream and pull-driven.
 */
import type { Timers } from "../lib/timers.ts";
import { IdleWatch, type IdleOwner } from "./idle-watch.ts";

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
  /**
   * The stream's end marker is about to be sent (SSE: `[DONE]` or the terminal event): what the
   * call holds for its stream is let go first, awaited when it is a promise, because a client
   * may start its next stream the moment it sees the end.
   */
  beforeEnd?: () => void | Promise<void>;
}

/** Registers what ends the relay when the proxy cuts it (a shutdown's end of grace); at once if it was cut already. */
export type OnCut = (end: () => void) => void;

export type Read = Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>["read"]>>;

/** What both relays share: the pull loop's shape, the idle watch, the cut, one end. */
export abstract class Relay implements UnderlyingDefaultSource<Uint8Array>, IdleOwner {
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
