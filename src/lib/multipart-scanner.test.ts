import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { boundaryOf, MultipartScanner, TextFieldTooLargeError, TooManyPartsError } from "./multipart-scanner.ts";

const encoder = new TextEncoder();

function form(
  boundary: string,
  parts: Array<{ name: string; filename?: string; content: Uint8Array }>,
): { body: Uint8Array; offsets: Array<[number, number]> } {
  const chunks: Uint8Array[] = [];
  const offsets: Array<[number, number]> = [];
  let size = 0;
  const add = (bytes: Uint8Array) => {
    chunks.push(bytes);
    size += bytes.byteLength;
  };
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename ? `; filename="${part.filename}"` : ""}`;
    add(encoder.encode(`--${boundary}\r\nContent-Disposition: ${disposition}\r\n${part.filename ? "Content-Type: application/octet-stream\r\n" : ""}\r\n`));
    offsets.push([size, size + part.content.byteLength]);
    add(part.content);
    add(encoder.encode("\r\n"));
  }
  add(encoder.encode(`--${boundary}--\r\n`));
  const body = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    body.set(c, at);
    at += c.byteLength;
  }
  return { body, offsets };
}

describe("MultipartScanner", () => {
  test("finds fields and files with their offsets", () => {
    const { body, offsets } = form("XyZ", [
      { name: "model", content: encoder.encode("whisper") },
      { name: "file", filename: "a.wav", content: new Uint8Array([0, 13, 10, 45, 45, 88, 255]) },
    ]);
    const scanner = new MultipartScanner("XyZ");
    scanner.push(body);
    expect(scanner.complete).toBe(true);
    expect(scanner.parts.map((p) => [p.name, p.filename, p.start, p.end])).toEqual([
      ["model", null, ...offsets[0]!],
      ["file", "a.wav", ...offsets[1]!],
    ]);
    expect(scanner.parts[1]!.contentType).toBe("application/octet-stream");
  });

  test("property: any chunking of any form yields the exact part ranges", () => {
    const boundary = "----formdata-test-7f3a";
    const content = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      // contents that look like the start of a delimiter must not end a part early
      fc.constantFrom(encoder.encode("\r\n--"), encoder.encode("\r\n----formdata-test-7f"), encoder.encode(`--${boundary.slice(0, 10)}`)),
    );
    const part = fc.record({
      name: fc.stringMatching(/^[a-z_[\]]{1,12}$/),
      filename: fc.option(fc.stringMatching(/^[a-z.]{1,8}$/), { nil: undefined }),
      content,
    });
    fc.assert(
      fc.property(fc.array(part, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 20 }), (parts, cutsRaw) => {
        const { body, offsets } = form(boundary, parts);
        const cuts = [...new Set(cutsRaw.map((c) => c % body.byteLength))].sort((a, b) => a - b);
        const scanner = new MultipartScanner(boundary);
        let from = 0;
        for (const cut of [...cuts, body.byteLength]) {
          scanner.push(body.subarray(from, cut));
          from = cut;
        }
        expect(scanner.complete).toBe(true);
        expect(scanner.parts.map((p) => [p.name, p.start, p.end])).toEqual(parts.map((p, i) => [p.name, ...offsets[i]!]));
      }),
      { numRuns: 400 },
    );
  });

  test("boundaryOf reads quoted and bare boundaries", () => {
    expect(boundaryOf('multipart/form-data; boundary="a b"')).toBe("a b");
    expect(boundaryOf("multipart/form-data; charset=utf-8; boundary=----x1")).toBe("----x1");
    expect(boundaryOf("application/json")).toBeNull();
  });

  test("keeps text fields' content, not files'", () => {
    const { body } = form("bnd-7", [
      { name: "model", content: encoder.encode("whisper-1") },
      { name: "file", filename: "a.wav", content: new Uint8Array(5000) },
      { name: "prompt", content: encoder.encode("héllo\r\n--bnd-") },
    ]);
    const scanner = new MultipartScanner("bnd-7");
    for (let at = 0; at < body.byteLength; at += 7) scanner.push(body.subarray(at, at + 7));
    expect(scanner.parts.map((p) => (p.text === null ? null : new TextDecoder().decode(p.text)))).toEqual(["whisper-1", null, "héllo\r\n--bnd-"]);
  });

  test("refuses a part past maxParts and a text field past maxTextBytes", () => {
    const parts = Array.from({ length: 4 }, (_, i) => ({ name: `f${i}`, content: encoder.encode("x") }));
    expect(() => new MultipartScanner("b", { maxParts: 3 }).push(form("b", parts).body)).toThrow(TooManyPartsError);
    const exactly = new MultipartScanner("b", { maxParts: 4 });
    exactly.push(form("b", parts).body);
    expect(exactly.parts.length).toBe(4);
    const big = form("b", [{ name: "prompt", content: new Uint8Array(101) }]).body;
    expect(() => new MultipartScanner("b", { maxTextBytes: 100 }).push(big)).toThrow(TextFieldTooLargeError);
  });

  test("onPart takes each part as it ends, and then none is kept", () => {
    const { body } = form("b", [
      { name: "a", content: encoder.encode("1") },
      { name: "b", content: encoder.encode("2") },
    ]);
    const seen: string[] = [];
    const scanner = new MultipartScanner("b", { onPart: (part) => seen.push(`${part.name}=${new TextDecoder().decode(part.text!)}`), maxParts: 2 });
    scanner.push(body.subarray(0, 60));
    expect(seen).toEqual(["a=1"]);
    scanner.push(body.subarray(60));
    expect(seen).toEqual(["a=1", "b=2"]);
    expect(scanner.parts).toEqual([]);
  });

  test("a header block arriving a byte at a time is found once", () => {
    const { body } = form("b", [{ name: "n".repeat(8000), content: encoder.encode("v") }]);
    const scanner = new MultipartScanner("b");
    for (let at = 0; at < body.byteLength; at++) scanner.push(body.subarray(at, at + 1));
    expect(scanner.complete).toBe(true);
    expect(scanner.parts[0]!.name.length).toBe(8000);
  });

  test("parse time is linear in the number of parts (10k vs 100k tiny parts, one read)", () => {
    const tiny = (count: number) =>
      form(
        "----tiny",
        Array.from({ length: count }, () => ({ name: "a", content: encoder.encode("b") })),
      ).body;
    const small = tiny(10_000);
    const large = tiny(100_000);
    // the best of a few runs: the machine is shared, and a GC pause is not the parser's cost
    const time = (body: Uint8Array) => {
      let best = Infinity;
      for (let run = 0; run < 5; run++) {
        const started = performance.now();
        const scanner = new MultipartScanner("----tiny");
        scanner.push(body);
        best = Math.min(best, performance.now() - started);
        expect(scanner.parts.length).toBe(body === small ? 10_000 : 100_000);
      }
      return best;
    };
    const ratio = time(large) / time(small);
    // linear: ~10; the old scanner copied the rest of the buffer at every delimiter (~100)
    expect(ratio).toBeLessThan(25);
    expect(ratio).toBeGreaterThan(3);
  });
});
