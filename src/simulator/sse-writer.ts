/**
 * Plays a script of stream steps as a response body the way Azure's network delivers it: events
 * may be split mid-character across writes, quiet gaps happen, and connections get cut.
 * `event` steps are framed as chat-style SSE (`data: ...\n\n`, docs/azure.md §3.1);
 * `frame` steps are written as given (Responses API `event:` frames, binary audio chunks).
 */
import type { Faults } from "./faults.ts";

export type Step = { event: string } | { frame: string | Uint8Array } | { pause: number } | { reset: true };

export interface WriterHooks {
  split: boolean;
  onClientClosed(): void;
  onComplete(): void;
  /** Bytes handed to the connection so far (tests check backpressure with it). */
  onWritten(bytes: number): void;
}

const encoder = new TextEncoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function scriptedStream(steps: Step[], hooks: WriterHooks): ReadableStream<Uint8Array> {
  let next = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const step = steps[next++];
          if (step === undefined) {
            controller.close();
            hooks.onComplete();
            return;
          }
          if ("pause" in step) {
            await sleep(step.pause);
            continue;
          }
          if ("reset" in step) {
            // Erroring a chunked body makes the server drop the connection without the final
            // chunk: what the proxy sees when Azure's connection resets mid-answer.
            hooks.onComplete();
            controller.error(new Error("simulated connection reset (expected: a test asked for reset_after)"));
            return;
          }
          const bytes = "event" in step ? encoder.encode(`data: ${step.event}\n\n`) : typeof step.frame === "string" ? encoder.encode(step.frame) : step.frame;
          hooks.onWritten(bytes.byteLength);
          if (!hooks.split || bytes.length < 2) {
            controller.enqueue(bytes);
            return;
          }
          const cut = splitPoint(bytes);
          controller.enqueue(bytes.subarray(0, cut));
          await sleep(1);
          controller.enqueue(bytes.subarray(cut));
          return;
        }
      },
      cancel() {
        hooks.onClientClosed();
      },
    },
    { highWaterMark: 0 },
  );
}

/** Inside the first multi-byte UTF-8 character if there is one, else the middle. */
export function splitPoint(bytes: Uint8Array): number {
  for (let i = 1; i < bytes.length; i++) if ((bytes[i]! & 0xc0) === 0x80) return i;
  return Math.max(1, bytes.length >> 1);
}

/**
 * The stream faults of faults.ts applied to a list of content steps, the same way for every
 * streamed operation: reset/truncate/error after K events, a stall, and chunk_ms gaps.
 * `end.error` is what an in-stream error looks like for this operation, `end.done` how the
 * stream ends normally (`[DONE]` for chat and completions, nothing for Responses).
 */
export function applyStreamFaults(events: Step[], faults: Faults, end: { error: Step[]; done: Step[] }): Step[] {
  const steps: Step[] = [];
  for (let i = 0; i < events.length; i++) {
    if (i === faults.resetAfter) return [...steps, { reset: true }];
    if (i === faults.truncateAfter) return steps;
    if (i === faults.errorAfter) return [...steps, ...end.error];
    if (i === faults.stallAfter && faults.stallMs) steps.push({ pause: faults.stallMs });
    steps.push(events[i]!);
    if (faults.chunkMs > 0) steps.push({ pause: faults.chunkMs });
  }
  return [...steps, ...end.done];
}
