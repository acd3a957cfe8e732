/**
 * What a Realtime session tells while it runs, and how it ended: the counterpart of a call's
 * observer (proxy/observer.ts). The layer that took the upgrade (http/app.ts opens the session,
 * http/request-end.ts finishes it) owns what happens with it: the metrics, the access-log line, the key's tokens and the usage ledger.
 * The gateway and the session never count anything themselves; they report here and hand back
 * a promise of the end (Upgraded).
 */
import type { LogFields } from "../lib/log.ts";
import type { CallObserver } from "../proxy/observer.ts";
import type { ResponseTokens } from "./usage.ts";

export interface SessionObserver extends Pick<CallObserver, "begin" | "chargedTo"> {
  /** An upstream accepted the handshake, after `attempts` tries: the session is open. */
  opened(upstream: string, deployment: string, attempts: number): void;
  /** One `response.done`'s tokens: counted at once, so a budget sees a long session's spend while it runs. */
  responseDone(tokens: ResponseTokens): void;
}

/** An upgrade's context, opened by its owner (http/request-end.ts) before anything can refuse it. */
export interface SessionContext {
  /** The request id: the 101's x-request-id, the upstream handshake's, every log line's. */
  readonly id: string;
  readonly observer: SessionObserver;
}

export interface SessionEnd {
  /** 101 for a session that was opened; a refused upgrade's HTTP status. */
  readonly status: number;
  /** The `outcome` label of azure_proxy_realtime_sessions_total: "refused", or a SessionOutcome (session.ts). */
  readonly outcome: string;
  /** What the access-log line adds for a session that was opened (close code, frames, token totals). */
  readonly fields?: Readonly<LogFields>;
}

export interface Upgraded {
  /** What the server's fetch returns: the refusal, or the runtime's answer to the upgrade. */
  readonly response: Response | undefined;
  /** Settles (never rejects) exactly once, when the session is over however it ended. */
  readonly ended: Promise<SessionEnd>;
}
