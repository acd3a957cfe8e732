/**
 * The WebSocket client against a real server on a real socket: what the server sends between
 * the handshake and the moment the session attaches its handlers (`on`) is held back by not
 * reading, not piled up in memory, and is all delivered, in order, once they attach.
 */
import { afterEach, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { type ClientSocket, connectWebSocket } from "./ws-client.ts";
import { ACCEPT_GUID, OP } from "./ws-frames.ts";

const FRAME_BYTES = 256 * 1024;
// far more than the loopback's socket buffers take, so a reader that keeps reading is visible
const FRAMES = 256;

/** A server frame (unmasked) carrying text `payload`. */
function serverFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const head = new Uint8Array(10);
  head[0] = 0x80 | opcode;
  head[1] = 127;
  new DataView(head.buffer).setBigUint64(2, BigInt(payload.byteLength));
  const frame = new Uint8Array(10 + payload.byteLength);
  frame.set(head);
  frame.set(payload, 10);
  return frame;
}

let server: Server | undefined;
let client: ClientSocket | undefined;
const serverSockets: Socket[] = [];
afterEach(() => {
  client?.close(1000, "done");
  // the server never answers the close: its side goes now, and a reset on it is no test's error
  for (const socket of serverSockets.splice(0)) socket.destroy();
  server?.close();
});

/** A server that accepts the handshake and at once writes FRAMES frames; resolves with its socket. */
function floodingServer(): Promise<{ port: number; accepted: Promise<Socket> }> {
  let onSocket: (socket: Socket) => void = () => {};
  const accepted = new Promise<Socket>((resolve) => {
    onSocket = resolve;
  });
  server = createServer((socket) => {
    serverSockets.push(socket);
    socket.on("error", () => {});
    let head = "";
    socket.on("data", (chunk) => {
      head += chunk.toString("latin1");
      if (!head.includes("\r\n\r\n")) return;
      const key = /sec-websocket-key: (.+)\r\n/i.exec(head)![1]!.trim();
      const accept = createHash("sha1")
        .update(key + ACCEPT_GUID)
        .digest("base64");
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
      for (let i = 0; i < FRAMES; i++) {
        const payload = new Uint8Array(FRAME_BYTES).fill(97);
        payload.set(new TextEncoder().encode(String(i).padStart(6, "0")));
        socket.write(serverFrame(OP.text, payload));
      }
      onSocket(socket);
    });
  });
  return new Promise((resolve) => {
    server!.listen(0, "127.0.0.1", () => resolve({ port: (server!.address() as { port: number }).port, accepted }));
  });
}

test("frames sent before the handlers attach are held back on the socket, then all delivered in order", async () => {
  const { port, accepted } = await floodingServer();
  client = await connectWebSocket(new URL(`ws://127.0.0.1:${port}/`), { headers: {}, timeoutMs: 5000, maxMessageBytes: 16 * 1024 * 1024 });
  const serverSocket = await accepted;
  await Bun.sleep(500);
  // not read: most of the 64 MiB still waits in the server's own write queue
  expect(serverSocket.writableLength).toBeGreaterThan((FRAMES * FRAME_BYTES) / 2);

  const seen: number[] = [];
  const all = new Promise<void>((resolve) => {
    client!.on({
      message(data) {
        expect(typeof data).toBe("string");
        seen.push(Number((data as string).slice(0, 6)));
        if (seen.length === FRAMES) resolve();
      },
      pong() {},
      close() {},
      drain() {},
    });
  });
  await all;
  expect(seen).toEqual(Array.from({ length: FRAMES }, (_, i) => i));
  expect(serverSocket.writableLength).toBe(0);
});
