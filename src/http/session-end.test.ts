/**
 * A Realtime session is finished by its owner (request-end.ts) exactly once, however it ends:
 * the client closes or is lost, the upstream closes or is lost or stops answering pings, either
 * side stops reading, the proxy shuts down, the upgrade fails, or it is refused. Each socket here
 * answers a close the way a runtime does (its close event, a moment later), so each case runs the
 * whole cascade: the first end counts, the echoes that follow must not count again.
 */
import { describe, expect, test } from "bun:test";
import type { Logger, LogFields } from "../lib/log.ts";
import { createMetrics } from "../metrics/catalog.ts";
import { InFlight } from "../proxy/in-flight.ts";
import { relaySession } from "../realtime/session.ts";
import type { ServerSocket, SocketHandlers } from "../runtime/web-sockets.ts";
import type { ClientEvents, ClientSocket } from "../runtime/ws-client.ts";
import type { UsageEntry } from "../state/usage-row.ts";
import { Health } from "../upstream/health.ts";
import { RequestActivity } from "./request-activity.ts";
import { RequestEnds } from "./request-end.ts";

const DONE = JSON.stringify({ type: "response.done", response: { usage: { input_tokens: 7, output_tokens: 5 } } });
const tick = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms));

class FakeUpstream implements ClientSocket {
  readonly headers = new Headers();
  bufferedAmount = 0;
  events: ClientEvents | undefined;
  private closed = false;
  send() {}
  ping() {}
  pause() {}
  resume() {}
  on(events: ClientEvents) {
    this.events = events;
  }
  /** Azure closes (or the connection drops): the close event, once. */
  hangUp(code: number, reason = "") {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.events?.close(code, reason));
  }
  close(code: number, reason: string) {
    this.hangUp(code, reason);
  }
}

class FakeClient implements ServerSocket {
  bufferedAmount = 0;
  private closed = false;
  constructor(private readonly handlers: SocketHandlers) {}
  send() {}
  /** The client closes (or is lost): the runtime's close handler, once. */
  hangUp(code: number, reason = "") {
    if (this.closed) return;
    this.closed = true;
    queueMicrotask(() => this.handlers.close(code, reason));
  }
  close(code: number, reason: string) {
    this.hangUp(code, reason);
  }
}

function harness(pingMs = 60_000) {
  const metrics = createMetrics(new Health(Date.now));
  const lines: LogFields[] = [];
  const log: Logger = { debug() {}, warn() {}, error() {}, info: (msg, fields) => void (msg === "realtime session" && lines.push(fields ?? {})) };
  const ledger: UsageEntry[] = [];
  const activity = new RequestActivity();
  const ends = new RequestEnds({ metrics, log, limiter: { addTokens() {} }, spending: { record: (e) => void ledger.push(e) }, clock: Date.now, activity });
  const inFlight = new InFlight();
  let released = 0;
  const request = new Request("http://proxy/v1/realtime?model=gpt-realtime", { headers: { upgrade: "websocket" } });

  /** What the gateway does once the upstream accepted: the session opened and relaying. */
  function open() {
    const session = ends.openSession(request, "/v1/realtime?model=gpt-realtime");
    session.observer.begin("realtime", "gpt-realtime", true);
    session.observer.chargedTo("rt");
    session.observer.opened("a", "gpt-realtime", 1);
    const upstream = new FakeUpstream();
    const relay = relaySession(() => released++, upstream, { inFlight, maxBufferedBytes: 1000, pingMs }, session.observer);
    ends.settleSession(session, relay.ended);
    const client = new FakeClient(relay.handlers);
    return { relay, upstream, client, session };
  }

  async function figures() {
    const value = async (metric: { get(): Promise<{ values: Array<{ value: number; labels: object }> }> }) =>
      (await metric.get()).values.reduce((sum, v) => sum + v.value, 0);
    return {
      lines: lines.length,
      outcomes: (await metrics.realtimeSessions.get()).values.map((v) => `${v.labels.outcome}:${v.value}`),
      requests: await value(metrics.requests),
      inflightRequests: await value(metrics.inflightRequests),
      inflightSessions: await value(metrics.inflightRealtimeSessions),
      sessionEnds: ledger.filter((e) => e.requests === undefined).length,
      released,
      inFlight: inFlight.size,
      activity: activity.started,
    };
  }
  return { open, ends, request, figures, lines, ledger, inFlight };
}

const once = (outcome: string) => ({
  lines: 1,
  outcomes: [`${outcome}:1`],
  requests: 1,
  inflightRequests: 0,
  inflightSessions: 0,
  sessionEnds: 1,
  released: 1,
  inFlight: 0,
  activity: 1,
});

describe("a Realtime session is finished once, however it ends", () => {
  const cases: Array<[string, string, (s: ReturnType<ReturnType<typeof harness>["open"]>, inFlight: InFlight) => void]> = [
    ["the client closes", "client_closed", (s) => s.client.hangUp(1000, "bye")],
    ["the client is lost", "client_lost", (s) => s.client.hangUp(1006)],
    ["the upstream closes", "upstream_closed", (s) => s.upstream.hangUp(4000, "done")],
    ["the upstream is lost", "upstream_lost", (s) => s.upstream.hangUp(1006)],
    [
      "both close at once",
      "client_closed",
      (s) => {
        s.client.hangUp(1000);
        s.upstream.hangUp(1000);
      },
    ],
    ["the proxy shuts down", "shutdown", (_, inFlight) => inFlight.cutAll()],
    [
      "the client stops reading",
      "slow_client",
      (s) => {
        s.client.bufferedAmount = 2000;
        s.upstream.events!.message("{}");
      },
    ],
    [
      "the upstream stops reading",
      "slow_upstream",
      (s) => {
        s.upstream.bufferedAmount = 2000;
        s.relay.handlers.message("{}");
      },
    ],
  ];
  for (const [name, outcome, ending] of cases) {
    test(name, async () => {
      const h = harness();
      const s = h.open();
      s.relay.handlers.open(s.client);
      s.upstream.events!.message(DONE);
      expect(await h.figures()).toMatchObject({ lines: 0, inflightRequests: 1, inflightSessions: 1, inFlight: 1 });
      ending(s, h.inFlight);
      await tick();
      expect(await h.figures()).toEqual(once(outcome));
      expect(h.lines[0]).toMatchObject({ key: "rt", model: "gpt-realtime", upstream: "a", status: 101, end: outcome, responses: 1, input_tokens: 7 });
      // the response's tokens reached the ledger while the session ran, and the end adds the request
      expect(h.ledger.map((e) => e.requests ?? 1)).toEqual([0, 1]);
    });
  }

  test("the upstream stops answering pings", async () => {
    const h = harness(10);
    const s = h.open();
    s.relay.handlers.open(s.client);
    await tick(40);
    expect(await h.figures()).toEqual(once("upstream_lost"));
  });

  test("the client's upgrade fails after the upstream accepted (the gateway closes both)", async () => {
    const h = harness();
    const s = h.open();
    s.upstream.close(1001, "client handshake failed");
    s.relay.handlers.close(1006, "client handshake failed");
    await tick();
    expect(await h.figures()).toEqual(once("client_lost"));
  });

  test("a refused upgrade: one line and one count under upstream none, no ledger entry, nothing left in flight", async () => {
    const h = harness();
    const session = h.ends.openSession(h.request, "/v1/realtime?model=gpt-realtime");
    session.observer.begin("realtime", "gpt-realtime", true);
    h.ends.settleSession(session, Promise.resolve({ status: 429, outcome: "refused" }));
    await tick();
    expect(await h.figures()).toMatchObject({ lines: 1, outcomes: ["refused:1"], requests: 1, inflightRequests: 0, inflightSessions: 0, sessionEnds: 0 });
    expect(h.lines[0]).toMatchObject({ status: 429, end: "refused", route: "realtime", key: "anonymous", model: "gpt-realtime" });
    expect(h.lines[0]!.upstream).toBeUndefined();
  });
});
