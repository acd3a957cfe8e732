/// <reference types="bun-types" />
/**
 * WebSockets on Bun.serve: one handler for every socket, each socket's own handlers in its
 * `data` (given to server.upgrade). Upgrading after an await works since Bun 1.1.13
 * (oven-sh/bun#11707, fixing #7514 and #8986, which lost the subprotocol).
 */
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { closeReason, type ServerSocket, type SocketHandlers, type Upgrade } from "./web-sockets.ts";

interface SocketData {
  readonly handlers: SocketHandlers;
}

/** What the program sees of one Bun socket. */
function wrap(ws: ServerWebSocket<SocketData>): ServerSocket {
  return {
    // Bun reports backpressure by return value (-1) and keeps the bytes queued; the relay
    // bounds the queue by reading bufferedAmount
    send: (data) => void ws.send(data),
    close: (code, reason) => ws.close(code, closeReason(reason)),
    get bufferedAmount() {
      return ws.getBufferedAmount();
    },
  };
}

const wrapped = new WeakMap<ServerWebSocket<SocketData>, ServerSocket>();

export function bunWebSocketHandler(idleSeconds: number): WebSocketHandler<SocketData> {
  return {
    // Past Bun's backpressureLimit (16 MiB by default) send() silently DROPS a message (bun-types
    // WebSocketHandler.backpressureLimit); a relay must never drop one, so the limit is off and
    // the relay closes a session whose queue passes its own bound instead.
    backpressureLimit: 0,
    closeOnBackpressureLimit: false,
    // uWebSockets pings a socket quiet this long and closes it when the pong does not come
    // within the next period; nginx's proxy_read_timeout (60 s by default) then never fires.
    idleTimeout: idleSeconds,
    sendPings: true,
    // base64 audio in JSON events reaches several MiB; OpenAI accepts events up to 15 MiB
    maxPayloadLength: 16 * 1024 * 1024,
    perMessageDeflate: false,
    open(ws) {
      const socket = wrap(ws);
      wrapped.set(ws, socket);
      ws.data.handlers.open(socket);
    },
    message(ws, message) {
      ws.data.handlers.message(typeof message === "string" ? message : new Uint8Array(message.buffer, message.byteOffset, message.byteLength));
    },
    close(ws, code, reason) {
      wrapped.delete(ws);
      ws.data.handlers.close(code, reason);
    },
  };
}

export function bunUpgrade(server: Server<SocketData>): Upgrade {
  return (request, { protocol, headers, handlers }) => {
    const all: Record<string, string> = { ...headers };
    if (protocol) all["sec-websocket-protocol"] = protocol;
    if (!server.upgrade(request, { data: { handlers }, headers: all })) throw new Error("not a WebSocket handshake");
    return undefined;
  };
}
