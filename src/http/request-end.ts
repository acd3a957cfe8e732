/**
 * The one owner of a request's end. The context is opened when the request comes in; when its
 * answer is over (at once, or when a relayed body ends) it is finished here, exactly once: the
 * record's metrics and access-log line, the key's tokens for its tpm window, the usage ledger.
 * The proxy core has released what the call held (its stream slot, its body) before `ended`
 * settles (proxy/forward.ts).
 */
import type { Logger } from "../lib/log.ts";
import { requestIdFrom } from "../lib/ids.ts";
import type { Metrics } from "../metrics/catalog.ts";
import { RequestRecord } from "../metrics/record.ts";
import { type CallEnd, ENDED } from "../proxy/observer.ts";
import type { KeyLimits } from "../ratelimit/limiter.ts";
import { ledgerEntry } from "../state/ledger-entry.ts";
import type { Spending } from "../state/spending.ts";
import { attachContext, RequestContext } from "./request-context.ts";

export interface RequestEndDeps {
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Tokens a key used count toward its tokens-per-minute limit. */
  readonly limiter: Pick<KeyLimits, "addTokens">;
  /** The usage ledger and budgets. */
  readonly spending: Pick<Spending, "record">;
  readonly clock: () => number;
}

/** The URL of a request whose target failed its check: it never reaches a route. */
const NO_URL = new URL("http://invalid/");

export class RequestEnds {
  constructor(private readonly deps: RequestEndDeps) {}

  open(request: Request, url: URL | undefined): RequestContext {
    const id = requestIdFrom(request.headers.get("x-request-id"));
    const record = new RequestRecord(id, request.method, url ? url.pathname : "(invalid)", this.deps.metrics, this.deps.log);
    const context = new RequestContext(id, url ?? NO_URL, record);
    attachContext(request, context);
    return context;
  }

  /** Finish when the answer is over: now, or when its relayed body ends. */
  settle(context: RequestContext, status: number): void {
    if (context.ended === undefined || context.ended === ENDED) {
      this.finish(context, status, "complete");
      return;
    }
    void this.finishWhenOver(context, context.ended, status);
  }

  private async finishWhenOver(context: RequestContext, ended: Promise<CallEnd>, status: number): Promise<void> {
    let end: CallEnd = "complete";
    try {
      end = await ended;
    } finally {
      this.finish(context, status, end);
    }
  }

  private finish(context: RequestContext, status: number, end: CallEnd): void {
    const { record } = context;
    // a route may have named the key itself (a Realtime call made with an ephemeral key)
    if (record.key === "anonymous") record.key = context.client.name;
    record.finish(status, end);
    const { usage } = record;
    if (usage) this.deps.limiter.addTokens(record.key, usage.prompt + usage.completion);
    const entry = ledgerEntry(record, this.deps.clock());
    if (entry) this.deps.spending.record(entry);
  }
}
