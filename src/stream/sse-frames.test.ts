import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { endsWithDone, lastBoundary, splitEvents, SseEventTooLarge, SseFramer } from "./sse-frames.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

describe("SseFramer", () => {
  test("passes a chunk that ends on a boundary through as is", () => {
    const chunk = encoder.encode("data: a\n\ndata: b\n\n");
    expect(new SseFramer().push(chunk)).toBe(chunk);
  });

  test("holds back a partial event until it completes", () => {
    const framer = new SseFramer();
    expect(decoder.decode(framer.push(encoder.encode("data: a\n\ndata: b"))!)).toBe("data: a\n\n");
    expect(framer.partial).toBe(7);
    expect(framer.push(encoder.encode("c\n"))).toBeNull();
    expect(decoder.decode(framer.push(encoder.encode("\n"))!)).toBe("data: bc\n\n");
    expect(framer.partial).toBe(0);
  });

  test("CRLF framing counts as a boundary", () => {
    expect(lastBoundary(encoder.encode("data: a\r\n\r\ndata: b"))).toBe(11);
  });

  test("property: any split of a stream yields the same bytes, each output ending on an event boundary", () => {
    const event = fc.string({ unit: "binary", minLength: 0, maxLength: 40 }).map((s) => `data: ${s.replace(/[\r\n]/g, " ")}\n\n`);
    fc.assert(
      fc.property(fc.array(event, { minLength: 1, maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (events, cutsRaw) => {
        const bytes = encoder.encode(events.join(""));
        const cuts = [...new Set(cutsRaw.map((c) => c % bytes.length))].sort((a, b) => a - b);
        const framer = new SseFramer();
        const out: number[] = [];
        let from = 0;
        for (const cut of [...cuts, bytes.length]) {
          const piece = framer.push(bytes.slice(from, cut));
          from = cut;
          if (piece) {
            expect(piece[piece.length - 1]).toBe(0x0a);
            expect(piece[piece.length - 2]).toBe(0x0a);
            out.push(...piece);
          }
        }
        expect(framer.partial).toBe(0);
        expect(new Uint8Array(out)).toEqual(bytes);
      }),
      { numRuns: 300 },
    );
  });
});

describe("SseFramer: events spread over many reads", () => {
  test("property: LF and CRLF events cut into reads of 1-5 bytes come out whole, in the same bytes", () => {
    const event = fc.tuple(fc.constantFrom("data: x", "data: é€", ": c", "data: [DONE]"), fc.constantFrom("\n\n", "\r\n\r\n"));
    fc.assert(
      fc.property(
        fc.array(event, { minLength: 1, maxLength: 10 }),
        fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 20 }),
        (events, sizes) => {
          const bytes = encoder.encode(events.map(([l, e]) => l + e).join(""));
          const framer = new SseFramer();
          const out: Uint8Array[] = [];
          for (let at = 0, k = 0; at < bytes.length; k++) {
            const size = sizes[k % sizes.length]!;
            const piece = framer.push(bytes.slice(at, at + size));
            at += size;
            if (piece) out.push(piece);
          }
          expect(framer.partial).toBe(0);
          const all = out.flatMap((piece) => [...piece]);
          expect(new Uint8Array(all)).toEqual(bytes);
          // every piece is whole events: as many pieces' events as the stream has
          expect(out.reduce((n, piece) => n + splitEvents(piece).length, 0)).toBe(events.length);
        },
      ),
      { numRuns: 500 },
    );
  });

  test("an event that never ends is refused past the limit, and the framer starts clean", () => {
    const framer = new SseFramer(1000);
    expect(framer.push(encoder.encode("data: ok\n\ndata: "))).not.toBeNull();
    const piece = encoder.encode("x".repeat(100));
    for (let i = 0; i < 9; i++) expect(framer.push(piece)).toBeNull();
    expect(() => framer.push(piece)).toThrow(SseEventTooLarge);
    expect(framer.partial).toBe(0);
  });

  test("a long event in many reads is joined once, not rescanned per read (linear time)", () => {
    // 16 MiB in 4 KiB reads: rescanning the held bytes per read would be ~32 GB of scanning
    const framer = new SseFramer();
    const read = encoder.encode("x".repeat(4096));
    const started = performance.now();
    framer.push(encoder.encode("data: "));
    for (let i = 0; i < 4095; i++) framer.push(read);
    const events = framer.push(encoder.encode("\n\n"));
    expect(events!.byteLength).toBe(6 + 4095 * 4096 + 2);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe("splitEvents", () => {
  test("cuts after each blank line, LF or CRLF, and gives a one-event batch back as itself", () => {
    const texts = (batch: string) => splitEvents(encoder.encode(batch)).map((e) => decoder.decode(e));
    expect(texts("data: a\n\ndata: b\r\n\r\n: c\n\n")).toEqual(["data: a\n\n", "data: b\r\n\r\n", ": c\n\n"]);
    expect(texts("\n\ndata: a\ndata: b\n\ndata: c")).toEqual(["\n\n", "data: a\ndata: b\n\n"]);
    expect(texts("data: a\n")).toEqual([]);
    const one = encoder.encode("data: a\n\n");
    expect(splitEvents(one)[0]).toBe(one);
  });

  test("property: the same cuts as a byte-by-byte scan", () => {
    // the obvious version: a boundary is an LF after an LF, or the LF of CR LF CR LF
    const byteByByte = (batch: Uint8Array) => {
      const events: Uint8Array[] = [];
      let start = 0;
      for (let i = 1; i < batch.length; i++) {
        if (batch[i] !== 0x0a) continue;
        if (batch[i - 1] === 0x0a || (batch[i - 1] === 0x0d && i >= 3 && batch[i - 2] === 0x0a && batch[i - 3] === 0x0d)) {
          events.push(batch.slice(start, i + 1));
          start = i + 1;
        }
      }
      return events;
    };
    const line = fc.constantFrom("data: x", "", "\r", ":", "data: [DONE]", "é€");
    const ending = fc.constantFrom("\n", "\r\n", "\r");
    fc.assert(
      fc.property(fc.array(fc.tuple(line, ending), { maxLength: 30 }), (lines) => {
        const batch = encoder.encode(lines.map(([l, e]) => l + e).join(""));
        expect(splitEvents(batch).map((e) => [...e])).toEqual(byteByByte(batch).map((e) => [...e]));
      }),
      { numRuns: 1000 },
    );
  });
});

describe("endsWithDone", () => {
  test("recognises the terminator with any line ending", () => {
    expect(endsWithDone(encoder.encode('data: {"x":1}\n\ndata: [DONE]\n\n'))).toBe(true);
    expect(endsWithDone(encoder.encode("data: [DONE]\r\n\r\n"))).toBe(true);
    expect(endsWithDone(encoder.encode('data: {"x":"[DONE]"}\n\n'))).toBe(false);
  });
});
