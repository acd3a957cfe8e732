/**
 * One Realtime session after both handshakes: frames relayed both ways as they came (text as
 * text, binary as binary, in order), each side's close passed to the other, and an end that runs
 * exactly once (metrics, the stream slot, the usage ledger, the access-log line with the session's
 * token totals).
 *
 * Memory: neither side can make the proxy hold more than `maxBufferedBytes` per direction. A
 * client that stops reading lets its socket's queue grow; past the bound the session is closed
 * with 1008 (policy: the client is not reading). An upstream that stops reading is closed the same
 * way, and the client gets 1011. Liveness: the runtime pings the client (web-sockets.ts); the
 * upstream is pinged here every `pingMs`, and a full period without a pong or a frame ends the
 * session with 1011.
 */
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "../metrics/catalog.ts";
import type { Client } from "../config/client.ts";
import type { InFlight } from "../proxy/in-flight.ts";
import type { KeyLimits } from "../ratelimit/limiter.ts";
import type { ClientSocket } from "../runtime/ws-client.ts";
import { sendableCode, type ServerSocket, type SocketHandlers } from "../runtime/web-sockets.ts";
import type { Spending } from "../state/spending.ts";
import { SessionUsage } from "./usage.ts";

export interface SessionDeps {
  readonly metrics: Metrics;
  readonly limiter: KeyLimits;
  readonly inFlight: InFlight;
  readonly log: Logger;
  readonly maxBufferedBytes: number;
  readonly pingMs: number;
  /** The usage ledger (state/): a session is one request with its responses' tokens. */
  readonly spending?: Pick<Spending, "record">;
}

export interface SessionInfo {
  readonly requestId: string;
  readonly path: string;
  readonly client: Client;
  readonly model: string;
  /** The model as a metric label (bounded: unknown names are "other"). */
  readonly modelLabel: string;
  readonly upstream: string;
  readonly deployment: string;
  readonly attempts: number;
  /** Gives back the key's stream slot. */
  readonly release: () => void;
  readonly started: number;
}

/** How a session ended: the `outcome` label of azure_proxy_realtime_sessions_total. */
export type SessionOutcome = "client_closed" | "upstream_closed" | "upstream_lost" | "slow_client" | "slow_upstream" | "shutdown" | "client_lost";

export function relaySession(info: SessionInfo, upstream: ClientSocket, deps: SessionDeps): SocketHandlers {
  const { metrics, log } = deps;
  const usage = new SessionUsage();
  let client: ServerSocket | undefined;
  let ended = false;
  let alive = true;
  let framesIn = 0;
  let framesOut = 0;
  let ping: ReturnType<typeof setInterval> | undefined;
  let unregister = () => {};
  metrics.inflightRealtimeSessions.inc();
  metrics.inflightRequests.inc();

  const end = (outcome: SessionOutcome, code: number, reason: string) => {
    if (ended) return;
    ended = true;
    clearInterval(ping);
    unregister();
    info.release();
    const ms = performance.now() - info.started;
    metrics.inflightRealtimeSessions.dec();
    metrics.inflightRequests.dec();
    metrics.realtimeSessions.inc({ model: info.modelLabel, upstream: info.upstream, outcome });
    metrics.requests.inc({ route: "realtime", model: info.modelLabel, upstream: info.upstream, status: "101" });
    metrics.duration.observe({ route: "realtime", model: info.modelLabel }, ms / 1000);
    const totals = usage.totals();
    // the tokens are in the ledger already, one entry per response.done: the session itself is the call
    deps.spending?.record({ key: info.client.name, model: info.model, upstream: info.upstream, prompt: 0, cached: 0, completion: 0, at: Date.now() });
    log.info("realtime session", {
      request_id: info.requestId,
      method: "GET",
      path: info.path,
      route: "realtime",
      key: info.client.name,
      model: info.model,
      upstream: info.upstream,
      deployment: info.deployment,
      attempts: info.attempts,
      status: 101,
      end: outcome,
      close_code: code,
      close_reason: reason || undefined,
      duration_ms: Math.round(ms * 10) / 10,
      frames_from_client: framesIn,
      frames_from_upstream: framesOut,
      responses: usage.responses,
      ...totals,
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
      if (tokens) {
        deps.limiter.addTokens(info.client.name, tokens.input + tokens.output);
        // in the ledger now, not at the session's end: its budget sees a long session's spend
        // while it runs (refusing the key's next call), and a crash loses at most a second of it
        deps.spending?.record({
          requests: 0,
          key: info.client.name,
          model: info.model,
          upstream: info.upstream,
          prompt: tokens.input,
          cached: tokens.cached,
          completion: tokens.output,
          at: Date.now(),
        });
        metrics.tokens.inc({ key: info.client.name, model: info.modelLabel, kind: "prompt" }, tokens.input);
        metrics.tokens.inc({ key: info.client.name, model: info.modelLabel, kind: "completion" }, tokens.output);
      }
    }
    if (client!.bufferedAmount > deps.maxBufferedBytes) {
      const reason = `the client is not reading: more than ${deps.maxBufferedBytes} bytes queued`;
      end("slow_client", 1008, reason);
      upstream.close(1001, "client too slow");
      closeClient(1008, reason);
    }
  };

  return {
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
}
