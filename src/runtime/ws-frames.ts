/**
 * WebSocket framing (RFC 6455 §5) for the client side: frames we send are masked, frames the
 * server sends are not. Fragmented messages are joined; control frames may come between
 * fragments (§5.4) and are handed out at once.
 */
import { concatBytes } from "../lib/bytes.ts";
export const ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

export const OP = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 } as const;

export interface Frame {
  readonly opcode: number;
  readonly payload: Uint8Array;
}

/** A protocol violation or an oversized message, with the close code it calls for. */
export class FrameError extends Error {
  constructor(
    message: string,
    readonly closeCode: number,
  ) {
    super(message);
  }
}

export function encodeFrame(opcode: number, payload: Uint8Array, mask: Uint8Array): Uint8Array {
  const length = payload.byteLength;
  const headerLength = length < 126 ? 2 : length < 65536 ? 4 : 10;
  const frame = new Uint8Array(headerLength + 4 + length);
  frame[0] = 0x80 | opcode;
  if (length < 126) frame[1] = 0x80 | length;
  else if (length < 65536) {
    frame[1] = 0x80 | 126;
    frame[2] = length >> 8;
    frame[3] = length & 0xff;
  } else {
    frame[1] = 0x80 | 127;
    new DataView(frame.buffer).setBigUint64(2, BigInt(length));
  }
  frame.set(mask, headerLength);
  const body = headerLength + 4;
  for (let i = 0; i < length; i++) frame[body + i] = payload[i]! ^ mask[i & 3]!;
  return frame;
}

/** Bytes in, whole frames out. */
export class FrameReader {
  private buffered: Uint8Array = new Uint8Array(0);
  private fragments: Uint8Array[] = [];
  private fragmentBytes = 0;
  private fragmentOpcode = 0;

  constructor(private readonly maxMessageBytes: number) {}

  push(chunk: Uint8Array): Frame[] {
    this.buffered = this.buffered.byteLength === 0 ? chunk : concatBytes([this.buffered, chunk]);
    const out: Frame[] = [];
    for (;;) {
      const frame = this.next();
      if (!frame) break;
      const whole = this.assemble(frame);
      if (whole) out.push(whole);
    }
    return out;
  }

  private next(): { fin: boolean; opcode: number; payload: Uint8Array } | undefined {
    const b = this.buffered;
    if (b.byteLength < 2) return undefined;
    const fin = (b[0]! & 0x80) !== 0;
    const opcode = b[0]! & 0x0f;
    const masked = (b[1]! & 0x80) !== 0;
    let length = b[1]! & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (b.byteLength < 4) return undefined;
      length = (b[2]! << 8) | b[3]!;
      offset = 4;
    } else if (length === 127) {
      if (b.byteLength < 10) return undefined;
      const big = new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0);
      if (big > BigInt(this.maxMessageBytes)) throw new FrameError("message too big", 1009);
      length = Number(big);
      offset = 10;
    }
    if (length > this.maxMessageBytes) throw new FrameError("message too big", 1009);
    const maskAt = offset;
    if (masked) offset += 4;
    if (b.byteLength < offset + length) return undefined;
    let payload = b.subarray(offset, offset + length);
    if (masked) {
      // servers must not mask (§5.1), but unmasking costs nothing and loses nothing
      const mask = b.subarray(maskAt, maskAt + 4);
      payload = payload.map((byte, i) => byte ^ mask[i & 3]!);
    }
    this.buffered = b.subarray(offset + length);
    // a frame handed out must not keep a view of bytes the next chunk will be joined to
    return { fin, opcode, payload: this.buffered.byteLength === 0 ? payload : payload.slice() };
  }

  private assemble(frame: { fin: boolean; opcode: number; payload: Uint8Array }): Frame | undefined {
    if (frame.opcode >= 8) return frame;
    if (frame.opcode !== OP.continuation) {
      if (this.fragments.length > 0) throw new FrameError("a new message began inside a fragmented one", 1002);
      if (frame.fin) return frame;
      this.fragmentOpcode = frame.opcode;
    } else if (this.fragments.length === 0) throw new FrameError("a continuation frame with no message to continue", 1002);
    this.fragmentBytes += frame.payload.byteLength;
    if (this.fragmentBytes > this.maxMessageBytes) throw new FrameError("message too big", 1009);
    this.fragments.push(frame.payload);
    if (!frame.fin) return undefined;
    const payload = concatBytes(this.fragments);
    this.fragments = [];
    this.fragmentBytes = 0;
    return { opcode: this.fragmentOpcode, payload };
  }
}
