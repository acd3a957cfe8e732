/**
 * The one owner of a request's end. The context is opened when the request comes in; when its
 * answer is over (at once, or when a relayed body ends) it is finished here, exactly once: the
 * record's metrics and access-log line, the key's tokens for its tpm window, the usage ledger.
 * A Realtime session is a request the same way: opened when its upgrade is answered, finished
 * when its socket closes (openSession).
 * The proxy core has released what the call held (its stream slot, its body) before `ended`
 * settles (proxy/forward.ts). Every request and session opened here is counted as activity
 * (request-activity.ts).
 */
import type { Logger } from "../lib/log.ts";
import { requestIdFrom } from "../lib/ids.ts";
import type { Metrics } from "../metrics/catalog.ts";
import { RequestRecord } from "../metrics/record.ts";
import type { CallEnd } from "../proxy/observer.ts";
import type { SessionContext, SessionEnd, SessionObserver } from "../realtime/observer.ts";
import type { ResponseTokens } from "../realtime/usage.ts";
import type { KeyLimits } from "../ratelimit/limiter.ts";
import { ledgerEntry } from "../state/ledger-entry.ts";
import type { Spending } from "../state/spending.ts";
import { attachContext, RequestContext } from "./request-context.ts";
import type { RequestActivity } from "./request-activity.ts";

export interface RequestEndDeps {
  readonly metrics: Metrics;
  readonly log: Logger;
  /** Tokens a key used count toward its tokens-per-minute limit. */
  readonly limiter: Pick<KeyLimits, "addTokens">;
  /** The usage ledger and budgets. */
  readonly spending: Pick<Spending, "record">;
  readonly clock: () => number;
  /** Each request and session opened is counted here. */
  readonly activity: Pick<RequestActivity, "saw">;
}

/** The URL of a request whose target failed its check: it never reaches a route. */
const NO_URL = new URL("http://invalid/");

export interface OpenSession extends SessionContext {
  readonly record: RequestRecord;
}

export class RequestEnds {
  constructor(private readonly deps: RequestEndDeps) {}

  open(request: Request, url: URL | undefined): RequestContext {
    const id = requestIdFrom(request.headers.get("x-request-id"));
    const path = url ? url.pathname : "(invalid)";
    this.deps.activity.saw(path);
    const record = new RequestRecord(id, request.method, path, this.deps.metrics, this.deps.log);
    const context = new RequestContext(id, url ?? NO_URL, record);
    attachContext(request, context);
    return context;
  }

  /** Finish when the answer is over: now, or when its relayed body ends. */
  settle(context: RequestContext, status: number): void {
    if (context.ended === undefined) {
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

  /**
   * A Realtime upgrade (http/app.ts, `upgrade`): its record is the request's, its observer
   * counts each response's tokens as it is done, and `settleSession` finishes it.
   */
  openSession(request: Request, path: string): OpenSession {
    this.deps.activity.saw(path);
    const id = requestIdFrom(request.headers.get("x-request-id"));
    const record = new RequestRecord(id, "GET", path, this.deps.metrics, this.deps.log);
    record.begin("realtime", undefined, false);
    const observer: SessionObserver = {
      begin: record.begin.bind(record),
      chargedTo: record.chargedTo.bind(record),
      opened: record.sessionOpened.bind(record),
      responseDone: (tokens: ResponseTokens) => this.spent(record, tokens),
    };
    return { id, observer, record };
  }

  /** Finish the session once, when it is over: refused at once, or when its socket closed, however. */
  settleSession({ record }: OpenSession, ended: Promise<SessionEnd>): void {
    void ended.then((end) => {
      record.finishSession(end.status, end.outcome, end.fields);
      // the tokens are in the ledger already, one entry per response.done: the session itself is the call
      if (record.upstream !== undefined) this.deps.spending.record({ ...this.sessionEntry(record), prompt: 0, cached: 0, completion: 0 });
    });
  }

  /**
   * In the ledger and the tpm window now, not at the session's end: its budget sees a long
   * session's spend while it runs (refusing the key's next call), and a crash loses at most a
   * second of it.
   */
  private spent(record: RequestRecord, tokens: ResponseTokens): void {
    record.responseTokens(tokens.input, tokens.output);
    this.deps.limiter.addTokens(record.key, tokens.input + tokens.output);
    this.deps.spending.record({ ...this.sessionEntry(record), requests: 0, prompt: tokens.input, cached: tokens.cached, completion: tokens.output });
  }

  /** A session's model is the one Azure accepted the handshake for: the ledger names it as asked. */
  private sessionEntry(record: RequestRecord) {
    return { key: record.key, model: record.model ?? "none", upstream: record.upstream ?? "none", at: this.deps.clock() };
  }
}
