// deno-lint-ignore-file no-explicit-any
// biome-ignore-all lint/suspicious/noExplicitAny: the Deno global has no types where Bun type-checks this file
/**
 * WebSockets on Deno.serve: Deno.upgradeWebSocket gives a standard WebSocket and the 101
 * response to return. Its `idleTimeout` pings the client and closes a socket whose pong does not
 * come in time (Deno.UpgradeWebSocketOptions).
 */
import { closeReason, type ServerSocket, type Upgrade } from "./web-sockets.ts";

/** One server's sockets: the upgrade, and how many are open (a drain waits for them). */
export interface DenoSockets {
  readonly upgrade: Upgrade;
  readonly open: number;
  /** Run `fn` once no socket is open (at once when none is). */
  whenNone(fn: () => void): void;
}

export function denoSockets(Deno: any, idleSeconds: number): DenoSockets {
  let open = 0;
  let waiting: (() => void)[] = [];
  const closed = () => {
    if (--open > 0) return;
    const run = waiting;
    waiting = [];
    for (const fn of run) fn();
  };
  const upgrade: Upgrade = (request, { protocol, headers, handlers }) => {
    const { socket, response } = Deno.upgradeWebSocket(request, { protocol, idleTimeout: idleSeconds });
    socket.binaryType = "arraybuffer";
    const wrapped: ServerSocket = {
      send: (data) => socket.send(data),
      close(code, reason) {
        try {
          socket.close(code, closeReason(reason));
        } catch {
          // a standard WebSocket may refuse codes outside 1000 and 3000–4999 (WHATWG close())
          socket.close(1000, closeReason(reason));
        }
      },
      get bufferedAmount() {
        return socket.bufferedAmount ?? 0;
      },
    };
    open++;
    socket.onopen = () => handlers.open(wrapped);
    socket.onmessage = (event: MessageEvent) => handlers.message(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
    socket.onclose = (event: CloseEvent) => {
      closed();
      handlers.close(event.code, event.reason);
    };
    for (const [name, value] of Object.entries(headers ?? {})) response.headers.set(name, value);
    return response;
  };
  return {
    upgrade,
    get open() {
      return open;
    },
    whenNone(fn) {
      if (open === 0) fn();
      else waiting.push(fn);
    },
  };
}
