/**
 * What one request did, told along its way through the observer the proxy core reports to
 * (proxy/observer.ts: route, model, upstream, attempts, first byte, tokens) and finished exactly
 * once by the request's owner (http/request-end.ts), when its answer has really ended (for a
 * stream, when the relay ends). Finishing writes the access-log line and the request's metrics.
 */
import type { LogFields, Logger } from "../lib/log.ts";
import type { Usage } from "../stream/usage.ts";
import type { Metrics } from "./catalog.ts";
import { isOpsPath } from "./minute-series.ts";

// the CallObserver of proxy/observer.ts, by shape: metrics/ is inside proxy/ and does not import it
export class RequestRecord {
  route = "other";
  model: string | undefined;
  /** The model is one the proxy knows (listed, or Azure served it): safe as a metric label. */
  modelKnown = false;
  upstream: string | undefined;
  deployment: string | undefined;
  attempts = 0;
  firstByteMs: number | undefined;
  usage: Usage | undefined;
  /** The usage is the proxy's estimate, not Azure's count (stream/usage-estimate.ts). */
  usageEstimated = false;
  streaming = false;
  private finished = false;
  private readonly started = performance.now();

  /** The client key's name (set once auth has run). */
  key = "anonymous";

  constructor(
    readonly id: string,
    readonly method: string,
    readonly path: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
  ) {
    metrics.inflightRequests.inc();
  }

  begin(route: string, model: string | undefined, listed: boolean): void {
    this.route = route;
    this.model = model;
    this.modelKnown = listed;
  }

  attempt(upstream: string, deployment: string | undefined): void {
    this.attempts++;
    this.upstream = upstream;
    this.deployment = deployment;
  }

  served(): void {
    this.modelKnown = true;
  }

  tokens(usage: Usage, estimated: boolean): void {
    this.usage = usage;
    this.usageEstimated = estimated;
  }

  chargedTo(keyName: string): void {
    this.key = keyName;
  }

  firstByte(): void {
    if (this.firstByteMs !== undefined) return;
    this.firstByteMs = performance.now() - this.started;
    if (this.streaming || this.model) this.metrics.timeToFirstToken.observe({ model: this.modelLabel() }, this.firstByteMs / 1000);
  }

  streamStarted(): void {
    this.streaming = true;
    this.metrics.inflightStreams.inc();
  }

  finish(status: number, end = "complete"): void {
    const closing = this.close(status);
    if (!closing) return;
    const { ms, model, fields } = closing;
    if (this.streaming) this.metrics.inflightStreams.dec();
    this.metrics.duration.observe({ route: this.route, model }, ms / 1000);
    // the same first-byte times as time_to_first_token_seconds (see firstByte)
    if (!isOpsPath(this.path)) this.metrics.minutes.record(status, end, ms, this.streaming || this.model ? this.firstByteMs : undefined);
    if (this.usage) {
      this.metrics.tokens.inc({ key: this.key, model, kind: "prompt" }, this.usage.prompt);
      this.metrics.tokens.inc({ key: this.key, model, kind: "completion" }, this.usage.completion);
    }
    fields.end = end === "complete" ? undefined : end;
    fields.duration_ms = round(ms);
    fields.ttft_ms = this.firstByteMs === undefined ? undefined : round(this.firstByteMs);
    fields.prompt_tokens = this.usage?.prompt;
    fields.completion_tokens = this.usage?.completion;
    fields.usage_estimated = this.usageEstimated || undefined;
    this.log.info("request", fields);
  }

  /**
   * What ending a request and ending a session share, once: the in-flight count, the requests
   * counter, and the start of the access-log line (what every line begins with, in this order).
   */
  private close(status: number): { ms: number; model: string; fields: LogFields } | undefined {
    if (this.finished) return undefined;
    this.finished = true;
    const ms = performance.now() - this.started;
    const model = this.modelLabel();
    this.metrics.inflightRequests.dec();
    this.metrics.requests.inc({ route: this.route, model, upstream: this.upstream ?? "none", status: String(status) });
    return { ms, model, fields: this.lineStart(status) };
  }

  private lineStart(status: number): LogFields {
    return {
      request_id: this.id,
      method: this.method,
      path: this.path,
      route: this.route,
      key: this.key,
      model: this.model,
      upstream: this.upstream,
      deployment: this.deployment,
      attempts: this.attempts || undefined,
      status,
    };
  }

  // A Realtime session (realtime/observer.ts) is a request too: the same record, its own line.

  /** The upstream accepted the session's handshake (its tries: one attempt each, whichever failed). */
  sessionOpened(upstream: string, deployment: string, attempts: number): void {
    this.upstream = upstream;
    this.deployment = deployment;
    this.attempts = attempts;
    this.metrics.inflightRealtimeSessions.inc();
  }

  /** One response of the session is done: its tokens count now, not at the session's end. */
  responseTokens(prompt: number, completion: number): void {
    const model = this.modelLabel();
    this.metrics.tokens.inc({ key: this.key, model, kind: "prompt" }, prompt);
    this.metrics.tokens.inc({ key: this.key, model, kind: "completion" }, completion);
  }

  /**
   * The session's end: "realtime session" is its access-log line, with `fields` (how it closed,
   * frames, token totals). A refused upgrade never had an upstream: the contract counts it under
   * upstream "none", in requests and sessions only (no duration, not in this minute's series, as
   * no session is).
   */
  finishSession(status: number, outcome: string, fields?: Readonly<LogFields>): void {
    const closing = this.close(status);
    if (!closing) return;
    const { ms, model, fields: line } = closing;
    if (this.upstream !== undefined) {
      this.metrics.inflightRealtimeSessions.dec();
      this.metrics.duration.observe({ route: this.route, model }, ms / 1000);
    }
    this.metrics.realtimeSessions.inc({ model, upstream: this.upstream ?? "none", outcome });
    line.end = outcome;
    line.duration_ms = round(ms);
    this.log.info("realtime session", fields ? Object.assign(line, fields) : line);
  }

  private modelLabel(): string {
    return this.model === undefined ? "none" : this.modelKnown ? this.model : "other";
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
