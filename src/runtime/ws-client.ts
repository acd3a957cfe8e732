/**
 * A WebSocket client (RFC 6455) over node:net / node:tls, which Bun and Deno both provide.
 * Not the global WebSocket: it hides a refused handshake's status, headers and body (a 429's
 * retry-after, Azure's error JSON), which failover and the client's error need, and it cannot
 * stop reading, which backpressure needs. Messages are whole (fragments are joined); pings are
 * answered; text stays text and binary stays binary.
 */
import { createHash, randomBytes } from "node:crypto";
import type { Socket } from "node:net";
import { lazyBuiltin } from "../lib/lazy-builtin.ts";
import { ACCEPT_GUID, encodeFrame, FrameReader, OP, type Frame } from "./ws-frames.ts";

export interface ClientSocket {
  send(data: string | Uint8Array): void;
  ping(): void;
  close(code: number, reason: string): void;
  /** Bytes written and not yet taken by the network. */
  readonly bufferedAmount: number;
  /** Stop / go on reading from the server (backpressure toward it). */
  pause(): void;
  resume(): void;
  /** Set once, right after the handshake; until then the socket is not read past what came first. */
  on(events: ClientEvents): void;
  /** Server response headers of the 101. */
  readonly headers: Headers;
}

export interface ClientEvents {
  message(data: string | Uint8Array): void;
  pong(): void;
  /** Once, however it ends; 1006 when the connection was lost without a close frame. */
  close(code: number, reason: string): void;
  /** The client's own write side drained (after a bufferedAmount past a bound). */
  drain(): void;
}

/** The server refused the handshake: what it said, for failover and the client's error. */
export class HandshakeRefused extends Error {
  constructor(
    readonly status: number,
    readonly headers: Headers,
    readonly body: string,
  ) {
    super(`WebSocket handshake refused with HTTP ${status}`);
  }
}

/** No TCP/TLS connection or no complete answer within the time (code as fetch errors carry it). */
export class HandshakeError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

export interface ConnectOptions {
  readonly headers: Record<string, string>;
  readonly protocols?: readonly string[];
  readonly timeoutMs: number;
  /** Largest message accepted from the server; larger ones close the session (1009). */
  readonly maxMessageBytes: number;
  readonly signal?: AbortSignal;
  /** Extra trust for wss: (a private CA); the system's roots otherwise. */
  readonly tls?: { readonly ca?: string };
}

const net = lazyBuiltin<typeof import("node:net")>("node:net");
const tls = lazyBuiltin<typeof import("node:tls")>("node:tls");

const MAX_HEAD = 64 * 1024;
const MAX_ERROR_BODY = 64 * 1024;
const textDecoder = new TextDecoder("utf-8", { fatal: false });
const latin1 = new TextDecoder("latin1");

/** Open `url` (ws: or wss:); resolves once the server accepted (101), rejects with why not. */
export function connectWebSocket(url: URL, options: ConnectOptions): Promise<ClientSocket> {
  const secure = url.protocol === "wss:" || url.protocol === "https:";
  const port = Number(url.port || (secure ? 443 : 80));
  const key = randomBytes(16).toString("base64");
  return new Promise((resolve, reject) => {
    const socket: Socket = secure
      ? tls().connect({ host: url.hostname, port, servername: url.hostname, ALPNProtocols: ["http/1.1"], ...(options.tls?.ca ? { ca: options.tls.ca } : {}) })
      : net().connect({ host: url.hostname, port });
    socket.setNoDelay(true);
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(error);
    };
    // connected but unanswered is not unreachable: the caller cools one deployment, not the resource
    let connected = false;
    const timer = setTimeout(
      () =>
        fail(
          connected
            ? new HandshakeError(`the connection is up but no WebSocket handshake answer came within ${options.timeoutMs} ms`, "ANSWER_TIMEOUT")
            : new HandshakeError(`no connection within ${options.timeoutMs} ms`, "CONNECT_TIMEOUT"),
        ),
      options.timeoutMs,
    );
    const onAbort = () => fail(new HandshakeError("aborted", "ABORT_ERR"));
    options.signal?.addEventListener("abort", onAbort, { once: true });
    socket.once("error", (error: Error & { code?: string }) => fail(new HandshakeError(error.message, error.code ?? "ECONNREFUSED")));
    socket.once("close", () => fail(new HandshakeError("connection closed during the WebSocket handshake", "ECONNRESET")));
    socket.once(secure ? "secureConnect" : "connect", () => {
      connected = true;
      const lines = [
        `GET ${url.pathname}${url.search} HTTP/1.1`,
        `Host: ${url.host}`,
        "Upgrade: websocket",
        "Connection: Upgrade",
        `Sec-WebSocket-Key: ${key}`,
        "Sec-WebSocket-Version: 13",
      ];
      if (options.protocols?.length) lines.push(`Sec-WebSocket-Protocol: ${options.protocols.join(", ")}`);
      for (const [name, value] of Object.entries(options.headers)) lines.push(`${name}: ${value}`);
      socket.write(`${lines.join("\r\n")}\r\n\r\n`);
    });
    let head = Buffer.alloc(0);
    const onHead = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end === -1) {
        if (head.byteLength > MAX_HEAD) fail(new HandshakeError("WebSocket handshake answer too large", "EPROTO"));
        return;
      }
      socket.off("data", onHead);
      const [statusLine, ...headerLines] = latin1.decode(head.subarray(0, end)).split("\r\n");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine ?? "")?.[1] ?? 0);
      const headers = new Headers();
      for (const line of headerLines) {
        const colon = line.indexOf(":");
        if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
      }
      const rest = head.subarray(end + 4);
      if (status !== 101) return readRefusal(status, headers, rest);
      const expected = createHash("sha1")
        .update(key + ACCEPT_GUID)
        .digest("base64");
      if (headers.get("sec-websocket-accept") !== expected) return fail(new HandshakeError("the server's Sec-WebSocket-Accept does not match", "EPROTO"));
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener("abort", onAbort);
      socket.removeAllListeners("close");
      socket.removeAllListeners("error");
      resolve(open(socket, headers, rest, options.maxMessageBytes));
    };
    /** A refused handshake: read its (small) body, then report it. */
    const readRefusal = (status: number, headers: Headers, first: Buffer) => {
      const length = Number(headers.get("content-length") ?? NaN);
      let body = first;
      const done = () => fail(new HandshakeRefused(status, headers, textDecoder.decode(body.subarray(0, MAX_ERROR_BODY))));
      if (!(length > body.byteLength) || body.byteLength >= MAX_ERROR_BODY) return done();
      socket.removeAllListeners("close");
      socket.on("data", (chunk: Buffer) => {
        body = Buffer.concat([body, chunk]);
        if (body.byteLength >= length || body.byteLength >= MAX_ERROR_BODY) done();
      });
      socket.once("close", done);
    };
    socket.on("data", onHead);
  });
}

function open(socket: Socket, headers: Headers, first: Buffer, maxMessageBytes: number): ClientSocket {
  let events: ClientEvents | undefined;
  let early: Frame[] = [];
  let closed = false;
  let closeSent = false;
  let peerClose: { code: number; reason: string } | undefined;
  let endedEarly: { code: number; reason: string } | undefined;
  let callerPaused = false;
  const reader = new FrameReader(maxMessageBytes);

  const write = (opcode: number, payload: Uint8Array) => {
    if (socket.destroyed) return;
    socket.write(encodeFrame(opcode, payload, randomBytes(4)));
  };
  const end = (code: number, reason: string) => {
    if (closed) return;
    closed = true;
    socket.destroy();
    if (events) events.close(code, reason);
    else endedEarly = { code, reason };
  };
  const handle = (frame: Frame) => {
    if (!events) {
      // Until the session attaches, hold the server back by not reading rather than keep what
      // it sends: what waits here is one read's frames, however much the server sends meanwhile.
      early.push(frame);
      socket.pause();
      return;
    }
    switch (frame.opcode) {
      case OP.text:
        return events.message(textDecoder.decode(frame.payload));
      case OP.binary:
        return events.message(frame.payload);
      case OP.ping:
        return write(OP.pong, frame.payload);
      case OP.pong:
        return events.pong();
      case OP.close: {
        const code = frame.payload.byteLength >= 2 ? (frame.payload[0]! << 8) | frame.payload[1]! : 1005;
        const reason = textDecoder.decode(frame.payload.subarray(2));
        peerClose = { code, reason };
        if (!closeSent) {
          closeSent = true;
          write(OP.close, frame.payload.subarray(0, 2));
        }
        socket.end();
        return end(code, reason);
      }
    }
  };
  const onData = (chunk: Buffer) => {
    try {
      for (const frame of reader.push(chunk)) handle(frame);
    } catch (error) {
      // a protocol error or an oversized message (RFC 6455 §7.4.1: 1002 / 1009)
      const code = (error as { closeCode?: number }).closeCode ?? 1002;
      client.close(code, (error as Error).message);
      end(code, (error as Error).message);
    }
  };
  socket.on("data", onData);
  socket.on("error", () => end(peerClose?.code ?? 1006, peerClose?.reason ?? "connection lost"));
  socket.on("close", () => end(peerClose?.code ?? 1006, peerClose?.reason ?? "connection lost"));
  socket.on("drain", () => events?.drain());

  const encoder = new TextEncoder();
  const client: ClientSocket = {
    headers,
    send(data) {
      if (closeSent) return;
      if (typeof data === "string") write(OP.text, encoder.encode(data));
      else write(OP.binary, data);
    },
    ping: () => write(OP.ping, new Uint8Array(0)),
    close(code, reason) {
      if (closeSent || socket.destroyed) return end(code, reason);
      closeSent = true;
      const text = encoder.encode(reason);
      const payload = new Uint8Array(2 + text.byteLength);
      payload[0] = code >> 8;
      payload[1] = code & 0xff;
      payload.set(text, 2);
      write(OP.close, payload);
      // the server answers with its close and ends the connection; do not wait for a peer that never does
      setTimeout(() => end(code, reason), 2000).unref?.();
    },
    get bufferedAmount() {
      return socket.writableLength;
    },
    pause() {
      callerPaused = true;
      socket.pause();
    },
    resume() {
      callerPaused = false;
      socket.resume();
    },
    on(handlers) {
      events = handlers;
      const queued = early;
      early = [];
      for (const frame of queued) handle(frame);
      if (endedEarly) handlers.close(endedEarly.code, endedEarly.reason);
      // held back for the session only: a pause its handlers asked for meanwhile stays
      else if (!closed && queued.length > 0 && !callerPaused) socket.resume();
    },
  };
  if (first.byteLength > 0) onData(first);
  return client;
}
