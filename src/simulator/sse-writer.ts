/**
 * Plays a script of SSE events as a response body the way Azure's network delivers it: events
 * may be split mid-character across writes, quiet gaps happen, and connections get cut.
 */
export type Step = { event: string } | { pause: number } | { reset: true };

export interface WriterHooks {
  split: boolean;
  onClientClosed(): void;
  onComplete(): void;
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
          const bytes = encoder.encode(`data: ${step.event}\n\n`);
          if (!hooks.split) {
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
