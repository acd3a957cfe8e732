/**
 * Headroom: what Azure last said about a deployment's remaining quota, so the selector can move
 * a deployment that is about to answer 429 behind the ones that are not, before it does.
 * Azure sends `x-ratelimit-remaining-requests` and `x-ratelimit-remaining-tokens` on every call
 * to a standard deployment, `azure-openai-deployment-utilization` ("87.5%") on provisioned ones.
 *
 * Per (upstream, deployment) we keep the last values and when they came, and count what is in
 * flight there (requests sent and not yet answered, and their token estimates), because a burst
 * goes out before the next answer comes. Azure may already have counted some of those in its
 * last figure: counting them again errs towards moving a deployment back a little early, never
 * towards a 429. A value is trusted only briefly: Azure's request windows
 * are 1 s or 10 s, its token window 60 s but refilled as it goes, so an old "0" says nothing
 * about now. Trusted for: requests 1 s, tokens 10 s, utilization 10 s. `-1`, a missing header or
 * an older value is unknown, and unknown never moves a deployment.
 *
 * Runtime state, per process: each worker steers by the answers it saw (README, "With several
 * workers"). Bounded: at most MAX_ENTRIES deployments, stale ones pruned first, so client-chosen
 * names (any_model) cannot grow it.
 */
import type { Clock } from "./health.ts";

export const REQUESTS_TRUST_MS = 1_000;
export const TOKENS_TRUST_MS = 10_000;
export const UTILIZATION_TRUST_MS = 10_000;
const MAX_ENTRIES = 1_000;

export type HeadroomKind = "requests" | "tokens" | "utilization";
/** Why a deployment was moved back (the `reason` of azure_proxy_routing_skips_total). */
export type ShortReason = "headroom" | "utilization";

interface Snapshot {
  readonly upstream: string;
  readonly deployment: string;
  requests: number | undefined;
  tokens: number | undefined;
  utilization: number | undefined;
  at: number;
}

/** What Azure last said of a deployment's quota; a value it did not send is absent. */
export interface HeadroomSeen {
  readonly upstream: string;
  readonly deployment: string;
  readonly requests?: number;
  readonly tokens?: number;
  readonly utilization?: number;
  /** Epoch ms of the answer. */
  readonly at: number;
}

/** Requests sent to a deployment and not yet answered, with their token estimates. */
interface Pending {
  requests: number;
  tokens: number;
}

export class Headroom {
  private readonly snapshots = new Map<string, Snapshot>();
  /** Only while requests are in flight: bounded by concurrency, deleted at zero. */
  private readonly pending = new Map<string, Pending>();

  constructor(private readonly clock: Clock) {}

  /** Azure's answer from (upstream, deployment): its headers replace what we knew. */
  observe(upstream: string, deployment: string, headers: Headers): void {
    const requests = count(headers.get("x-ratelimit-remaining-requests"));
    const tokens = count(headers.get("x-ratelimit-remaining-tokens"));
    const utilization = percent(headers.get("azure-openai-deployment-utilization"));
    const key = `${upstream}/${deployment}`;
    const known = this.snapshots.get(key);
    if (requests === undefined && tokens === undefined && utilization === undefined) {
      if (known) this.snapshots.delete(key);
      return;
    }
    const now = this.clock();
    if (known) {
      Object.assign(known, { requests, tokens, utilization, at: now });
      return;
    }
    if (this.snapshots.size >= MAX_ENTRIES) this.prune(now);
    this.snapshots.set(key, { upstream, deployment, requests, tokens, utilization, at: now });
  }

  /** Azure answered 429: its Retry-After rules now (a cooldown), and the old snapshot is void. */
  forget(upstream: string, deployment: string): void {
    this.snapshots.delete(`${upstream}/${deployment}`);
  }

  /** A request with this token estimate goes to (upstream, deployment) now; `settled` follows. */
  sent(upstream: string, deployment: string, tokens: number): void {
    const key = `${upstream}/${deployment}`;
    const p = this.pending.get(key);
    if (p) {
      p.requests++;
      p.tokens += tokens;
    } else this.pending.set(key, { requests: 1, tokens });
  }

  /** Its answer (or failure) came: Azure's own figures count it from now on. */
  settled(upstream: string, deployment: string, tokens: number): void {
    const key = `${upstream}/${deployment}`;
    const p = this.pending.get(key);
    if (!p) return;
    if (--p.requests <= 0) this.pending.delete(key);
    else p.tokens -= tokens;
  }

  /** Whether anything is known about the deployment (so estimating a request is worth it). */
  knows(upstream: string, deployment: string): boolean {
    return this.snapshots.has(`${upstream}/${deployment}`);
  }

  /**
   * Why a request estimated at `tokens` should go elsewhere first, or null when the deployment
   * has headroom or nothing fresh is known.
   */
  shortOf(upstream: string, deployment: string, tokens: number, ptuSpillAt: number): ShortReason | null {
    const s = this.snapshots.get(`${upstream}/${deployment}`);
    if (!s) return null;
    const age = this.clock() - s.at;
    if (s.utilization !== undefined && age < UTILIZATION_TRUST_MS && s.utilization >= ptuSpillAt) return "utilization";
    const p = this.pending.get(`${upstream}/${deployment}`);
    if (s.requests !== undefined && age < REQUESTS_TRUST_MS && s.requests - (p?.requests ?? 0) <= 0) return "headroom";
    if (s.tokens !== undefined && age < TOKENS_TRUST_MS && s.tokens - (p?.tokens ?? 0) < tokens) return "headroom";
    return null;
  }

  /** Fresh values, for the azure_proxy_upstream_headroom gauge (what remains after what is in flight). */
  *current(): Generator<{ upstream: string; deployment: string; kind: HeadroomKind; value: number }> {
    const now = this.clock();
    for (const [key, s] of this.snapshots) {
      const age = now - s.at;
      const p = this.pending.get(key);
      if (s.requests !== undefined && age < REQUESTS_TRUST_MS)
        yield { upstream: s.upstream, deployment: s.deployment, kind: "requests", value: Math.max(0, s.requests - (p?.requests ?? 0)) };
      if (s.tokens !== undefined && age < TOKENS_TRUST_MS)
        yield { upstream: s.upstream, deployment: s.deployment, kind: "tokens", value: Math.max(0, s.tokens - (p?.tokens ?? 0)) };
      if (s.utilization !== undefined && age < UTILIZATION_TRUST_MS)
        yield { upstream: s.upstream, deployment: s.deployment, kind: "utilization", value: s.utilization };
    }
  }

  /** The last values Azure sent, however old, with when (the status page shows them with their age). */
  latest(): HeadroomSeen[] {
    return [...this.snapshots.values()].map(({ upstream, deployment, requests, tokens, utilization, at }) => ({
      upstream,
      deployment,
      requests,
      tokens,
      utilization,
      at,
    }));
  }

  get size(): number {
    return this.snapshots.size;
  }

  /** Drop what is no longer trusted; if all is fresh, the oldest entries (Map order is insertion). */
  private prune(now: number): void {
    for (const [key, s] of this.snapshots) if (now - s.at >= TOKENS_TRUST_MS) this.snapshots.delete(key);
    for (const key of this.snapshots.keys()) {
      if (this.snapshots.size < MAX_ENTRIES) break;
      this.snapshots.delete(key);
    }
  }
}

/**
 * The selector's order with the items short of headroom moved behind the others, each group in
 * the order it had: never dropped, only moved back. When all (or none) are short, the order
 * stands, and nothing counts as moved.
 */
export function moveShortBack<T>(ordered: readonly T[], reasonOf: (item: T) => ShortReason | null): { order: T[]; moved: ShortReason[] } {
  const ok: T[] = [];
  const short: T[] = [];
  const moved: ShortReason[] = [];
  for (const item of ordered) {
    const reason = reasonOf(item);
    if (reason) {
      short.push(item);
      moved.push(reason);
    } else ok.push(item);
  }
  if (short.length === 0 || ok.length === 0) return { order: [...ordered], moved: [] };
  return { order: [...ok, ...short], moved };
}

/** A remaining count; `-1` (Azure: not applicable), absent or garbled → unknown. */
function count(value: string | null): number | undefined {
  if (value === null) return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** "87.5%" (or "87.5") → 87.5. */
function percent(value: string | null): number | undefined {
  if (value === null) return undefined;
  const n = Number.parseFloat(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}
