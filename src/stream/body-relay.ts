/** Relay any other body (a file's content, speech audio) byte for byte, on the shared pull loop (relay-base.ts). */
import type { Timers } from "../lib/timers.ts";
import { type OnCut, type Read, Relay, type RelayEnd, type RelayHooks } from "./relay-base.ts";
import type { Tail } from "./usage.ts";

class IdleTimeout extends Error {}

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
