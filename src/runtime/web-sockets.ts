/**
 * The server side of a WebSocket, as the program sees it on either runtime. Bun hands messages
 * to one `websocket` handler given to Bun.serve; Deno to the socket Deno.upgradeWebSocket
 * returns. Both become these few calls, so src/realtime and src/simulator never see a runtime.
 */
export interface ServerSocket {
  send(data: string | Uint8Array): void;
  /** Close with a code and reason (the reason is cut to the 123 bytes a close frame holds). */
  close(code: number, reason: string): void;
  /** Bytes accepted by send() and not yet written to the network. */
  readonly bufferedAmount: number;
}

export interface SocketHandlers {
  open(socket: ServerSocket): void;
  message(data: string | Uint8Array): void;
  /** The socket is closed (by the peer, by us, or because its pings went unanswered). */
  close(code: number, reason: string): void;
}

export interface UpgradeOptions {
  /** The subprotocol to select (one the client offered), or none. */
  readonly protocol?: string;
  /** Headers for the 101 answer. */
  readonly headers?: Record<string, string>;
  readonly handlers: SocketHandlers;
}

/** Accept the request as a WebSocket; returns what the server's fetch must return. Throws when the request is no WebSocket handshake. */
export type Upgrade = (request: Request, options: UpgradeOptions) => Response | undefined;

/** Whether a request asks for a WebSocket (RFC 6455 §4.1). */
export function isWebSocketRequest(request: Request): boolean {
  return request.method === "GET" && request.headers.get("upgrade")?.toLowerCase() === "websocket";
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A close reason that fits in a close frame: at most 123 bytes of UTF-8, cut on a character. */
export function closeReason(reason: string): string {
  if (reason.length <= 41) return reason;
  const bytes = encoder.encode(reason);
  if (bytes.byteLength <= 123) return reason;
  return decoder.decode(bytes.subarray(0, 123)).replace(/\uFFFD$/, "");
}

/** Codes a peer may send in a close frame (RFC 6455 §7.4); others (1005, 1006, 1015) only describe. */
export function sendableCode(code: number): number {
  if (code === 1005 || code === 1006 || code === 1015 || code < 1000 || code >= 5000) return 1000;
  return code;
}
