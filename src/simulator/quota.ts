/**
 * Per-deployment quota, as Azure keeps it: a standard deployment has requests and tokens per
 * window and says what remains in `x-ratelimit-remaining-requests` / `-tokens` on every answer;
 * a provisioned (PTU) one has a token capacity per window and says how full it is in
 * `azure-openai-deployment-utilization` ("87.5%"). A call that does not fit gets Azure's 429 with
 * the time to the window's end as Retry-After. Azure counts a call when it arrives, by its
 * estimate (prompt bytes / 4 plus `max_tokens`, `max_completion_tokens` or `max_output_tokens`,
 * else 1024), not by what it used later.
 *
 * Windows are fixed and start at a deployment's first call, so a test that sets a small quota
 * knows exactly when it refills. Deployments without a quota keep the static, generous headers.
 */
export interface DeploymentQuota {
  /** Requests per window (standard deployments). */
  requests?: number;
  /** Tokens per window (standard), or the capacity of a provisioned deployment. */
  tokens?: number;
  /** Window length; default 60 s (Azure's token window). */
  window_ms?: number;
  /** Provisioned throughput: report utilization instead of remaining counts. */
  ptu?: boolean;
}

export interface QuotaUse {
  deployment: string;
  requests: number;
  tokens: number;
  /** Calls refused with 429 because the quota was spent. */
  rejected: number;
  /** Calls served for it by spillover to another deployment. */
  spilled: number;
}

interface Window {
  start: number;
  requests: number;
  tokens: number;
  rejected: number;
  spilled: number;
}

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

const DEFAULT_ANSWER_TOKENS = 1024;
const MAX_ANSWER = /"max_(?:completion_|output_)?tokens"\s*:\s*(\d+)/;
const encoder = new TextEncoder();

export function estimateOf(bodyText: string): number {
  const answer = MAX_ANSWER.exec(bodyText);
  return Math.ceil(encoder.encode(bodyText).byteLength / 4) + (answer ? Number(answer[1]) : DEFAULT_ANSWER_TOKENS);
}

export class Quotas {
  private readonly windows = new Map<string, Window>();
  private readonly totals = new Map<string, { rejected: number; spilled: number }>();

  constructor(
    private readonly quotas: Readonly<Record<string, DeploymentQuota>>,
    private readonly clock: () => number = Date.now,
  ) {}

  has(deployment: string): boolean {
    return Object.hasOwn(this.quotas, deployment);
  }

  /** Count the call against the deployment's window, or say when it would fit. */
  admit(deployment: string, estimate: number): Admission {
    const quota = this.quotas[deployment];
    if (!quota) return { ok: true };
    const w = this.window(deployment, quota);
    const overRequests = quota.requests !== undefined && w.requests + 1 > quota.requests;
    const overTokens = quota.tokens !== undefined && w.tokens + estimate > quota.tokens;
    if (overRequests || overTokens) {
      this.total(deployment).rejected++;
      return { ok: false, retryAfterMs: Math.max(1, w.start + (quota.window_ms ?? 60_000) - this.clock()) };
    }
    w.requests++;
    w.tokens += estimate;
    return { ok: true };
  }

  spilled(deployment: string): void {
    this.total(deployment).spilled++;
  }

  /** Azure's quota headers for the deployment, as they stand after this call. */
  setHeaders(deployment: string, headers: Headers): void {
    const quota = this.quotas[deployment];
    if (!quota) return;
    const w = this.window(deployment, quota);
    if (quota.ptu) {
      headers.delete("x-ratelimit-remaining-requests");
      headers.delete("x-ratelimit-remaining-tokens");
      const used = quota.tokens ? (100 * w.tokens) / quota.tokens : 0;
      headers.set("azure-openai-deployment-utilization", `${Math.min(100, Math.round(used * 10) / 10)}%`);
      return;
    }
    // -1: no limit of that kind (what Azure sends where a limit does not apply)
    headers.set("x-ratelimit-remaining-requests", String(quota.requests === undefined ? -1 : Math.max(0, quota.requests - w.requests)));
    headers.set("x-ratelimit-remaining-tokens", String(quota.tokens === undefined ? -1 : Math.max(0, quota.tokens - w.tokens)));
  }

  /** What each deployment with a quota used in its current window, and its refusals since start. */
  usage(): QuotaUse[] {
    return Object.entries(this.quotas).map(([deployment, quota]) => {
      const w = this.window(deployment, quota);
      const t = this.total(deployment);
      return { deployment, requests: w.requests, tokens: w.tokens, rejected: t.rejected, spilled: t.spilled };
    });
  }

  reset(): void {
    this.windows.clear();
    this.totals.clear();
  }

  private window(deployment: string, quota: DeploymentQuota): Window {
    const now = this.clock();
    let w = this.windows.get(deployment);
    if (!w || now >= w.start + (quota.window_ms ?? 60_000)) {
      w = { start: now, requests: 0, tokens: 0, rejected: 0, spilled: 0 };
      this.windows.set(deployment, w);
    }
    return w;
  }

  private total(deployment: string) {
    let t = this.totals.get(deployment);
    if (!t) {
      t = { rejected: 0, spilled: 0 };
      this.totals.set(deployment, t);
    }
    return t;
  }
}

/** `--quota gpt-4o:tokens=5000,requests=10,window_ms=60000[,ptu=1]` → its deployment and quota. */
export function parseQuotaFlag(value: string): [string, DeploymentQuota] {
  const colon = value.indexOf(":");
  if (colon < 1) throw new Error(`--quota: expected DEPLOYMENT:tokens=N,requests=N,window_ms=N,ptu=1, got "${value}"`);
  const quota: DeploymentQuota = {};
  for (const part of value.slice(colon + 1).split(",")) {
    const [key, raw] = part.split("=");
    const n = Number(raw);
    if (key === "ptu") quota.ptu = raw === "1" || raw === "true";
    else if ((key === "tokens" || key === "requests" || key === "window_ms") && Number.isInteger(n) && n > 0) quota[key] = n;
    else throw new Error(`--quota: "${part}" is not tokens=N, requests=N, window_ms=N or ptu=1`);
  }
  return [value.slice(0, colon), quota];
}

/** Every `--quota` flag's value → the simulator's quotas option. */
export function parseQuotaFlags(values: readonly string[] | undefined): Record<string, DeploymentQuota> {
  return Object.fromEntries((values ?? []).map(parseQuotaFlag));
}
