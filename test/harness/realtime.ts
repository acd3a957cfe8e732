/** Realtime WebSocket clients for tests: a session whose events can be awaited, and a refused upgrade. */
import { expect } from "bun:test";
import { connectWebSocket, HandshakeRefused, type ClientSocket } from "../../src/runtime/ws-client.ts";

const DIAL = { timeoutMs: 5000, maxMessageBytes: 1 << 24 };

export interface Session {
  readonly socket: ClientSocket;
  readonly events: Array<Record<string, any> | Uint8Array>;
  /** The next event of this type after the last one `next` returned (events between are passed over). */
  next(type: string, timeoutMs?: number): Promise<Record<string, any>>;
  readonly closed: Promise<{ code: number; reason: string }>;
}

/** `ws://127.0.0.1:port` + path (default: the OpenAI-shaped route for gpt-realtime). */
export function realtimeUrl(port: number, path = "/v1/realtime?model=gpt-realtime"): URL {
  return new URL(`ws://127.0.0.1:${port}${path}`);
}

export function bearer(key: string): Record<string, string> {
  return { authorization: `Bearer ${key}` };
}

export function dialRealtime(url: URL, headers: Record<string, string>, protocols?: string[]): Promise<ClientSocket> {
  return connectWebSocket(url, { ...DIAL, headers, protocols });
}

export async function openSession(url: URL, headers: Record<string, string>, protocols?: string[]): Promise<Session> {
  return watchSession(await dialRealtime(url, headers, protocols));
}

/** Collects an open socket's events (text ones parsed) and its close. */
export function watchSession(socket: ClientSocket): Session {
  const events: Session["events"] = [];
  const waiters = new Set<() => void>();
  let closedWith: (v: { code: number; reason: string }) => void;
  const closed = new Promise<{ code: number; reason: string }>((r) => (closedWith = r));
  socket.on({
    message(data) {
      events.push(typeof data === "string" ? JSON.parse(data) : data);
      for (const w of waiters) w();
    },
    pong() {},
    drain() {},
    close(code, reason) {
      closedWith({ code, reason });
      for (const w of waiters) w();
    },
  });
  let seen = 0;
  const next = (type: string, timeoutMs = 5000) =>
    new Promise<Record<string, any>>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no ${type} within ${timeoutMs} ms; got ${events.map((e) => (e instanceof Uint8Array ? "binary" : e.type)).join(",")}`)),
        timeoutMs,
      );
      const look = () => {
        for (; seen < events.length; seen++) {
          const e = events[seen]!;
          if (!(e instanceof Uint8Array) && e.type === type) {
            seen++;
            waiters.delete(look);
            clearTimeout(timer);
            return resolve(e);
          }
        }
      };
      waiters.add(look);
      look();
    });
  return { socket, events, next, closed };
}

/** The upgrade's refusal, or undefined when it was accepted (the socket is closed at once). */
export function upgradeRefusal(url: URL, headers: Record<string, string>, protocols?: string[]): Promise<HandshakeRefused | undefined> {
  return dialRealtime(url, headers, protocols).then(
    (s) => {
      s.close(1000, "");
      return undefined;
    },
    (e) => e as HandshakeRefused,
  );
}

/** The refusal of an upgrade that must be refused. */
export async function refusedUpgrade(url: URL, headers: Record<string, string>, protocols?: string[]): Promise<HandshakeRefused> {
  const error = await upgradeRefusal(url, headers, protocols);
  if (error === undefined) throw new Error("the upgrade was accepted");
  expect(error).toBeInstanceOf(HandshakeRefused);
  return error;
}
