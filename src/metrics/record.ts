/**
 * What one request did, filled in along its way (route, model, upstream, attempts, first byte,
 * tokens) and finished exactly once, when its answer has really ended (for a stream, when the
 * relay ends). Finishing writes the access-log line and the request's metrics.
 */
import type { Logger } from "../lib/log.ts";
import type { Metrics } from "./catalog.ts";
import { isOpsPath } from "./minute-series.ts";

export interface Usage {
  prompt: number;
  completion: number;
  /** Prompt tokens Azure served from its prompt cache (part of `prompt`); absent: none reported. */
  cached?: number;
}

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
  /** The answer's body is relayed; finish() waits for its end. */
  relayed = false;
  private finished = false;
  private readonly finishers: Array<() => void> = [];
  private readonly started = performance.now();

  /** The client key's name (set once auth has run). */
  key = "anonymous";

  constructor(
    readonly id: string,
    readonly method: string,
    readonly path: string,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly onUsage: (key: string, usage: Usage) => void,
    /** The finished request, for the usage ledger. */
    private readonly onFinished?: (record: RequestRecord) => void,
  ) {
    metrics.inflightRequests.inc();
  }

  firstByte(): void {
    if (this.firstByteMs !== undefined) return;
    this.firstByteMs = performance.now() - this.started;
    if (this.streaming || this.model) this.metrics.timeToFirstToken.observe({ model: this.modelLabel() }, this.firstByteMs / 1000);
  }

  /** Run `fn` when the request is over, however it ends. */
  onFinish(fn: () => void): void {
    this.finishers.push(fn);
  }

  startStream(): void {
    this.streaming = true;
    this.metrics.inflightStreams.inc();
  }

  finish(status: number, end = "complete"): void {
    if (this.finished) return;
    this.finished = true;
    for (const fn of this.finishers) fn();
    const ms = performance.now() - this.started;
    const model = this.modelLabel();
    this.metrics.inflightRequests.dec();
    if (this.streaming) this.metrics.inflightStreams.dec();
    this.metrics.requests.inc({ route: this.route, model, upstream: this.upstream ?? "none", status: String(status) });
    this.metrics.duration.observe({ route: this.route, model }, ms / 1000);
    // the same first-byte times as time_to_first_token_seconds (see firstByte)
    if (!isOpsPath(this.path)) this.metrics.minutes.record(status, end, ms, this.streaming || this.model ? this.firstByteMs : undefined);
    if (this.usage) {
      this.metrics.tokens.inc({ key: this.key, model, kind: "prompt" }, this.usage.prompt);
      this.metrics.tokens.inc({ key: this.key, model, kind: "completion" }, this.usage.completion);
      this.onUsage(this.key, this.usage);
    }
    this.onFinished?.(this);
    this.log.info("request", {
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
      end: end === "complete" ? undefined : end,
      duration_ms: round(ms),
      ttft_ms: this.firstByteMs === undefined ? undefined : round(this.firstByteMs),
      prompt_tokens: this.usage?.prompt,
      completion_tokens: this.usage?.completion,
      usage_estimated: this.usageEstimated || undefined,
    });
  }

  private modelLabel(): string {
    return this.model === undefined ? "none" : this.modelKnown ? this.model : "other";
  }
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
