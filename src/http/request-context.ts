/**
 * One request's context, made once when the request comes in (http/app.ts) and found from the
 * Request by every http module: its id, its checked URL, the client the key named, the body a
 * parser read (until the route takes it), and the record the proxy core reports to. It is kept
 * on the Request itself, under a symbol, as srvx keeps `request.ip` and `request.runtime`: one
 * property read, where a WeakMap per concern cost a lookup each and spread the request's life
 * over five files.
 */
import type { Client } from "../config/client.ts";
import type { Claim } from "../lib/byte-budget.ts";
import type { RequestRecord } from "../metrics/record.ts";
import { type CallBody, disposeBody } from "../proxy/call.ts";
import { ANONYMOUS_CLIENT } from "../proxy/clients.ts";
import type { CallEnd, Forwarded } from "../proxy/observer.ts";

const CONTEXT = Symbol("azure-proxy.request");
type Carrier = Request & { [CONTEXT]?: RequestContext };

export class RequestContext {
  /** Who sent the request: set by the key check (client-auth.ts); anonymous on open routes. */
  client: Client = ANONYMOUS_CLIENT;
  /** The body a parser read (request-body.ts), until the route takes it for the call. */
  private body: CallBody | undefined;
  /** A JSON body's claim on limits.max_spool_bytes, held until the answer starts. */
  claim: Claim | undefined;
  /** How a relayed answer ends; absent: the answer is over once it is returned. */
  ended: Promise<CallEnd> | undefined;

  constructor(
    readonly id: string,
    readonly url: URL,
    readonly record: RequestRecord,
  ) {}

  keepBody(body: CallBody): void {
    this.body = body;
  }

  /** The body, for the call that now owns it (and releases it). */
  takeBody(): CallBody {
    const body = this.body ?? { kind: "none" };
    this.body = undefined;
    return body;
  }

  /** What no call took (the request failed validation) is let go when the app answers. */
  releaseUntaken(): void {
    if (this.body) disposeBody(this.takeBody());
    // a JSON body's bytes are held until its answer starts: by then it was sent, and no retry
    // can need it again
    this.claim?.release();
  }

  /** The forwarder's answer for the client; how it ends is kept for finishing (request-end.ts). */
  async answer(forwarding: Promise<Forwarded>): Promise<Response> {
    const { response, ended } = await forwarding;
    this.ended = ended;
    return response;
  }
}

export function attachContext(request: Request, context: RequestContext): void {
  (request as Carrier)[CONTEXT] = context;
}

export function contextOf(request: Request): RequestContext {
  const context = (request as Carrier)[CONTEXT];
  if (!context) throw new Error("the request has no context: it did not come through buildApp");
  return context;
}
