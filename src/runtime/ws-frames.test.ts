import { expect, test } from "bun:test";
import { encodeFrame, FrameError, FrameReader, OP } from "./ws-frames.ts";

/** A server frame (unmasked), as a server sends it. */
function serverFrame(opcode: number, payload: Uint8Array, fin = true): Uint8Array {
  const length = payload.byteLength;
  const head =
    length < 126
      ? [length]
      : length < 65536
        ? [126, length >> 8, length & 0xff]
        : [127, 0, 0, 0, 0, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
  return new Uint8Array([(fin ? 0x80 : 0) | opcode, ...head, ...payload]);
}
const text = (s: string) => new TextEncoder().encode(s);

test("frames split anywhere across chunks come out whole; fragments are joined with a ping between them", () => {
  const reader = new FrameReader(1 << 20);
  const big = new Uint8Array(70_000).map((_, i) => i % 256);
  const bytes = new Uint8Array([
    ...serverFrame(OP.text, text("hel"), false),
    ...serverFrame(OP.ping, text("p")),
    ...serverFrame(OP.continuation, text("lo")),
    ...serverFrame(OP.binary, big),
  ]);
  const out = [];
  for (let i = 0; i < bytes.byteLength; i += 7) out.push(...reader.push(bytes.subarray(i, i + 7)));
  expect(out.map((f) => f.opcode)).toEqual([OP.ping, OP.text, OP.binary]);
  expect(new TextDecoder().decode(out[1]!.payload)).toBe("hello");
  expect(out[2]!.payload).toEqual(big);
});

test("a message over the limit is a 1009, a stray continuation a 1002", () => {
  const codeOf = (fn: () => unknown) => {
    try {
      fn();
    } catch (error) {
      return error instanceof FrameError ? error.closeCode : -1;
    }
    return undefined;
  };
  expect(codeOf(() => new FrameReader(10).push(serverFrame(OP.text, text("x".repeat(11)))))).toBe(1009);
  expect(codeOf(() => new FrameReader(10).push(serverFrame(OP.continuation, text("x"))))).toBe(1002);
});

test("client frames are masked and decode back to the payload (16-bit and 64-bit lengths)", () => {
  for (const size of [5, 300, 70_000]) {
    const payload = new Uint8Array(size).map((_, i) => (i * 7) % 256);
    const frame = encodeFrame(OP.binary, payload, new Uint8Array([1, 2, 3, 4]));
    expect(frame[1]! & 0x80).toBe(0x80);
    const [decoded] = new FrameReader(1 << 20).push(frame);
    expect(decoded!.payload).toEqual(payload);
  }
});
