/**
 * One Realtime session after both handshakes: frames relayed both ways as they came (text as
 * text, binary as binary, in order), each side's close passed to the other, and an end that runs
 * exactly once: the timers and the stream slot are let go here, and the end (how, the close code,
 * frames and token totals) is handed to the owner that counts it (observer.ts, http/request-end.ts).
 *
 * Memory: neither side can make the proxy hold more than `maxBufferedBytes` per direction. A
 * client that stops reading lets its socket's queue grow; past the bound the session is closed
 * with 1008 (policy: the client is not reading). An upstream that stops reading is closed the same
 * way, and the client gets 1011. Liveness: the runtime pings the client (web-sockets.ts); the
 * upstream is pinged here every `pingMs`, and a full period without a pong or a frame ends the
 * session with 1011.
 */
import type { InFlight } from "../proxy/in-flight.ts";
import type { ClientSocket } from "../runtime/ws-client.ts";
import { sendableCode, type ServerSocket, type SocketHandlers } from "../runtime/web-sockets.ts";
import type { SessionEnd, SessionObserver } from "./observer.ts";
import { SessionUsage } from "./usage.ts";

export interface SessionDeps {
  readonly inFlight: InFlight;
  readonly maxBufferedBytes: number;
  readonly pingMs: number;
}

/** How a session ended: the `outcome` label of azure_proxy_realtime_sessions_total. */
export type SessionOutcome = "client_closed" | "upstream_closed" | "upstream_lost" | "slow_client" | "slow_upstream" | "shutdown" | "client_lost";

export interface SessionRelay {
  /** For the runtime's upgrade (runtime/web-sockets.ts). */
  readonly handlers: SocketHandlers;
  /** Settles once, with the first end any side reached; what closes after it changes nothing. */
  readonly ended: Promise<SessionEnd>;
}

/** `release` gives back the key's stream slot; the observer hears each response's tokens. */
export function relaySession(release: () => void, upstream: ClientSocket, deps: SessionDeps, observer: SessionObserver): SessionRelay {
  const usage = new SessionUsage();
  let client: ServerSocket | undefined;
  let ended = false;
  let alive = true;
  let framesIn = 0;
  let framesOut = 0;
  let ping: ReturnType<typeof setInterval> | undefined;
  let unregister = () => {};
  let settle: (end: SessionEnd) => void = () => {};
  const over = new Promise<SessionEnd>((resolve) => {
    settle = resolve;
  });

  const end = (outcome: SessionOutcome, code: number, reason: string) => {
    if (ended) return;
    ended = true;
    clearInterval(ping);
    unregister();
    release();
    settle({
      status: 101,
      outcome,
      fields: {
        close_code: code,
        close_reason: reason || undefined,
        frames_from_client: framesIn,
        frames_from_upstream: framesOut,
        responses: usage.responses,
        ...usage.totals(),
      },
    });
  };

  const closeClient = (code: number, reason: string) => {
    try {
      client?.close(code, reason);
    } catch {
      // already closed
    }
  };

  const onUpstreamMessage = (data: string | Uint8Array) => {
    alive = true;
    framesOut++;
    client!.send(data);
    if (typeof data === "string") {
      const tokens = usage.observe(data);
      if (tokens) observer.responseDone(tokens);
    }
    if (client!.bufferedAmount > deps.maxBufferedBytes) {
      const reason = `the client is not reading: more than ${deps.maxBufferedBytes} bytes queued`;
      end("slow_client", 1008, reason);
      upstream.close(1001, "client too slow");
      closeClient(1008, reason);
    }
  };

  const handlers: SocketHandlers = {
    open(socket) {
      client = socket;
      unregister = deps.inFlight.add(() => {
        end("shutdown", 1001, "server shutting down");
        upstream.close(1001, "proxy shutting down");
        closeClient(1001, "server shutting down");
      });
      ping = setInterval(() => {
        if (!alive) {
          const reason = `the upstream answered no ping for ${deps.pingMs} ms`;
          end("upstream_lost", 1011, reason);
          upstream.close(1001, "no pong");
          closeClient(1011, reason);
          return;
        }
        alive = false;
        upstream.ping();
      }, deps.pingMs);
      upstream.on({
        message: onUpstreamMessage,
        pong: () => {
          alive = true;
        },
        drain: () => {},
        close(code, reason) {
          // 1006: the connection was lost without a close frame; the client hears 1011 (§7.4.1)
          const lost = code === 1006;
          const toClient = lost ? 1011 : sendableCode(code);
          const why = lost ? "the upstream connection was lost" : reason;
          end(lost ? "upstream_lost" : "upstream_closed", toClient, why);
          closeClient(toClient, why);
        },
      });
    },
    message(data) {
      if (ended) return;
      framesIn++;
      upstream.send(data);
      if (upstream.bufferedAmount > deps.maxBufferedBytes) {
        const reason = `the upstream is not reading: more than ${deps.maxBufferedBytes} bytes queued`;
        end("slow_upstream", 1011, reason);
        upstream.close(1001, "upstream too slow");
        closeClient(1011, reason);
      }
    },
    close(code, reason) {
      end(code === 1006 ? "client_lost" : "client_closed", code, reason);
      upstream.close(code === 1006 ? 1001 : sendableCode(code), reason);
    },
  };
  return { handlers, ended: over };
}
