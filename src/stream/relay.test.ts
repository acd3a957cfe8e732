import { describe, expect, test } from "bun:test";
import { ManualTimers } from "../lib/timers.ts";
import { relayBody, relaySse, type RelayEnd, type SseOptions } from "./relay.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** An upstream body the test writes to, read by the relay. */
function upstream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let pulls = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      start: (c) => {
        controller = c;
      },
      pull: () => void pulls++,
    },
    { highWaterMark: 0 },
  );
  return { body, send: (text: string) => controller.enqueue(encoder.encode(text)), close: () => controller.close(), pulls: () => pulls };
}

function hooks() {
  const ends: RelayEnd[] = [];
  let aborted = 0;
  return { ends, aborted: () => aborted, abortUpstream: () => void aborted++, onFirstChunk() {}, onEnd: (end: RelayEnd) => void ends.push(end) };
}

const options = (more: Partial<SseOptions> = {}): SseOptions => ({ upstreamName: "u", end: "done-marker", idleMs: 5_000, heartbeatMs: 0, ...more });

/** Let the streams move (reads, pulls, enqueues): a few turns of the event loop, no time passing. */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function chunks(stream: ReadableStream<Uint8Array>): Promise<string[]> {
  const out: string[] = [];
  for await (const chunk of stream) out.push(decoder.decode(chunk));
  return out;
}

describe("relaySse", () => {
  test("the complete events of one read go out as one chunk, after the transform", async () => {
    const up = upstream();
    const h = hooks();
    const drop = (event: Uint8Array) => (decoder.decode(event).includes("drop") ? null : event);
    const relayed = chunks(relaySse(up.body, h, options({ transform: drop })));
    up.send("data: 1\n\ndata: drop\n\ndata: 2\n\ndata: 3");
    up.send("\n\ndata: [DONE]\n\n");
    up.close();
    expect(await relayed).toEqual(["data: 1\n\ndata: 2\n\n", "data: 3\n\ndata: [DONE]\n\n"]);
    expect(h.ends).toEqual(["complete"]);
  });

  test("the end marker waits for beforeEnd (the stream slot given back) before it is sent; earlier events do not", async () => {
    const up = upstream();
    const h = hooks();
    let letGo!: () => void;
    const calls: string[] = [];
    const beforeEnd = () => {
      calls.push("beforeEnd");
      return new Promise<void>((resolve) => (letGo = resolve));
    };
    const reader = relaySse(up.body, { ...h, beforeEnd }, options()).getReader();
    up.send("data: 1\n\n");
    expect(decoder.decode((await reader.read()).value)).toBe("data: 1\n\n");
    expect(calls).toEqual([]);
    up.send("data: 2\n\ndata: [DONE]\n\n");
    let got: string | undefined;
    const next = reader.read().then((r) => (got = decoder.decode(r.value)));
    await settle();
    expect(calls).toEqual(["beforeEnd"]);
    expect(got).toBeUndefined();
    letGo();
    await next;
    expect(got).toBe("data: 2\n\ndata: [DONE]\n\n");
    up.close();
    expect((await reader.read()).done).toBe(true);
    expect(h.ends).toEqual(["complete"]);
  });

  test("a client that leaves while the end waits: nothing is sent after, one end", async () => {
    const up = upstream();
    const h = hooks();
    let letGo!: () => void;
    const beforeEnd = () => new Promise<void>((resolve) => (letGo = resolve));
    const reader = relaySse(up.body, { ...h, beforeEnd }, options()).getReader();
    up.send("data: [DONE]\n\n");
    const pending = reader.read();
    await settle();
    await reader.cancel();
    letGo();
    expect((await pending).done).toBe(true);
    await settle();
    expect(h.ends).toEqual(["client_closed"]);
  });

  test("a transform that throws (a defect): the client's stream errors, the upstream is aborted, one end", async () => {
    const up = upstream();
    const h = hooks();
    const broken = () => {
      throw new Error("a defect in a fix-up");
    };
    const relayed = chunks(relaySse(up.body, h, options({ transform: broken })));
    up.send("data: 1\n\n");
    await expect(relayed).rejects.toThrow("a defect in a fix-up");
    expect(h.ends).toEqual(["upstream_broke"]);
    expect(h.aborted()).toBe(1);
  });

  test("silence past idleMs: the error event, the upstream aborted, one end", async () => {
    const up = upstream();
    const h = hooks();
    const timers = new ManualTimers();
    const relayed = chunks(relaySse(up.body, h, options({ idleMs: 60, timers })));
    up.send("data: 1\n\n");
    await settle();
    timers.advance(59);
    await settle();
    expect(h.ends).toEqual([]);
    timers.advance(1);
    const out = await relayed;
    expect(out[0]).toBe("data: 1\n\n");
    expect(JSON.parse(out[1]!.slice(6)).error.code).toBe("upstream_idle_timeout");
    expect(out).toHaveLength(2);
    expect(h.ends).toEqual(["upstream_idle"]);
    expect(h.aborted()).toBe(1);
  });

  test("a steady trickle of chunks, each sooner than idleMs, never times out", async () => {
    const up = upstream();
    const h = hooks();
    const timers = new ManualTimers();
    const relayed = chunks(relaySse(up.body, h, options({ idleMs: 60, timers })));
    for (let i = 0; i < 8; i++) {
      up.send(`data: ${i}\n\n`);
      await settle();
      timers.advance(50);
    }
    up.send("data: [DONE]\n\n");
    up.close();
    expect((await relayed).join("")).not.toContain("error");
    expect(h.ends).toEqual(["complete"]);
  });

  test("heartbeats while the upstream is quiet, none after the end", async () => {
    const up = upstream();
    const h = hooks();
    const timers = new ManualTimers();
    const relayed = chunks(relaySse(up.body, h, options({ idleMs: 1_000, heartbeatMs: 20, timers })));
    for (let i = 0; i < 5; i++) {
      await settle();
      timers.advance(20);
    }
    await settle();
    up.send("data: 1\n\ndata: [DONE]\n\n");
    up.close();
    await settle();
    timers.advance(100);
    const out = await relayed;
    // one comment per 20 ms of the 100 ms quiet, none once the stream ended
    expect(out.filter((c) => c === ": keep-alive\n\n")).toHaveLength(5);
    expect(out.at(-1)).toBe("data: 1\n\ndata: [DONE]\n\n");
    expect(h.ends).toEqual(["complete"]);
  });

  test("a client that stops reading stops the upstream reads; leaving aborts the upstream", async () => {
    const up = upstream();
    const h = hooks();
    const timers = new ManualTimers();
    const reader = relaySse(up.body, h, options({ idleMs: 60, timers })).getReader();
    const first = reader.read();
    up.send("data: 1\n\n");
    await first;
    for (let i = 0; i < 5; i++) up.send(`data: ${i}\n\n`);
    await settle();
    timers.advance(100);
    await settle();
    // no idle error either: nobody was waiting for the upstream
    expect(up.pulls()).toBeLessThanOrEqual(2);
    expect(decoder.decode((await reader.read()).value)).toBe("data: 0\n\n");
    await reader.cancel();
    expect(h.ends).toEqual(["client_closed"]);
    expect(h.aborted()).toBe(1);
  });

  test("a client that pauses longer than idleMs does not make the upstream idle", async () => {
    const up = upstream();
    const h = hooks();
    const timers = new ManualTimers();
    const reader = relaySse(up.body, h, options({ idleMs: 100, timers })).getReader();
    up.send("data: 1\n\n");
    expect(decoder.decode((await reader.read()).value)).toBe("data: 1\n\n");
    await settle();
    timers.advance(250); // the client reads nothing for 2.5 idle limits
    const next = reader.read();
    await settle();
    timers.advance(30); // well within a fresh idle limit
    up.send("data: 2\n\n");
    expect(decoder.decode((await next).value)).toBe("data: 2\n\n");
    up.send("data: [DONE]\n\n");
    up.close();
    expect(decoder.decode((await reader.read()).value)).toBe("data: [DONE]\n\n");
    expect((await reader.read()).done).toBe(true);
    expect(h.ends).toEqual(["complete"]);
  });

  test("the shutdown's cut mid-stream: what was sent, then the cut's error event, the upstream cancelled, one end", async () => {
    const up = upstream();
    const h = hooks();
    let cut: (() => void) | undefined;
    const relayed = chunks(
      relaySse(
        up.body,
        h,
        options({
          cut: (end) => {
            cut = end;
          },
        }),
      ),
    );
    up.send("data: 1\n\n");
    await settle();
    cut!();
    cut!();
    const out = await relayed;
    expect(out[0]).toBe("data: 1\n\n");
    expect(JSON.parse(out.at(-1)!.slice(6)).error.code).toBe("stream_cut_at_shutdown");
    expect(h.ends).toEqual(["upstream_broke"]);
  });

  test("a cut that came before the relay existed ends it at once", async () => {
    const up = upstream();
    const h = hooks();
    const out = await chunks(relaySse(up.body, h, options({ cut: (end) => end() })));
    expect(out.map((c) => JSON.parse(c.slice(6)).error.code)).toEqual(["stream_cut_at_shutdown"]);
    expect(h.ends).toEqual(["upstream_broke"]);
    expect(up.pulls()).toBe(0);
  });

  test("a cut stream ends with the truncation error", async () => {
    const up = upstream();
    const h = hooks();
    const relayed = chunks(relaySse(up.body, h, options()));
    up.send("data: 1\n\ndata: 2");
    up.close();
    const out = await relayed;
    expect(JSON.parse(out.at(-1)!.slice(6)).error.code).toBe("upstream_stream_truncated");
    expect(h.ends).toEqual(["upstream_truncated"]);
  });
});

describe("relayBody", () => {
  test("silence past idleMs errors the body (a cut answer, not a short one)", async () => {
    const up = upstream();
    const h = hooks();
    const timers = new ManualTimers();
    const reader = relayBody(up.body, h, 60, undefined, undefined, timers).getReader();
    up.send("{");
    expect(decoder.decode((await reader.read()).value)).toBe("{");
    const next = reader.read();
    await settle();
    timers.advance(60);
    await expect(next).rejects.toBeInstanceOf(Error);
    expect(h.ends).toEqual(["upstream_idle"]);
    expect(h.aborted()).toBe(1);
  });
});
