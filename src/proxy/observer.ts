/**
 * What the proxy core tells about a call while it runs, and nothing more: the layer that made
 * the call (http/request-end.ts) owns what happens with it (metrics, the access log, token
 * counting, the usage ledger). The core never reaches up to finish anything; `forward()` hands
 * back the answer and a promise of how its body ended (Forwarded).
 */
import type { RelayEnd } from "../stream/relay.ts";
import type { Usage } from "../stream/usage.ts";

export interface CallObserver {
  /** The operation and the model asked for; `listed`: a model the proxy lists, safe as a metric label. */
  begin(route: string, model: string | undefined, listed: boolean): void;
  /** One attempt at one upstream (deployment absent for calls not routed by model). */
  attempt(upstream: string, deployment: string | undefined): void;
  /** Azure served the model: a real one, fit for a metric label. */
  served(): void;
  /** The answer's first byte (time to first token for streams and model calls). */
  firstByte(): void;
  /** An SSE stream to the client began. */
  streamStarted(): void;
  /** The call's tokens, once, when known; `estimated`: the proxy's estimate, not Azure's count. */
  tokens(usage: Usage, estimated: boolean): void;
  /** The key the call is charged to, when the route learns it only itself (an ephemeral key's minter). */
  chargedTo(keyName: string): void;
}

/** How a call's answer ended: its body relayed to the end, or cut (relay.ts). */
export type CallEnd = RelayEnd;

export interface Forwarded {
  readonly response: Response;
  /**
   * Settles (never rejects) once the answer's body is over and the call has released what it
   * held; undefined when it was over as it was returned (a small body, read whole): no promise
   * to wait for, so it is finished at once.
   */
  readonly ended: Promise<CallEnd> | undefined;
}
