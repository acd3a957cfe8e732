/**
 * Cooldowns: which (upstream, deployment) pairs must not be tried until when. Throttling is
 * tracked per deployment, not per resource (Azure/aoai-smart-loadbalancing#7: one deployment's
 * 429 says nothing about the resource's others); an unreachable resource cools as a whole.
 * Runtime state: it outlives config reloads, and is kept apart from the frozen config.
 */
export type Clock = () => number;

export class Health {
  private readonly until = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  static key(upstream: string, deployment: string | null): string {
    return `${upstream}/${deployment ?? "*"}`;
  }

  coolDown(upstream: string, deployment: string | null, ms: number): void {
    const key = Health.key(upstream, deployment);
    const until = this.clock() + ms;
    // a later, longer answer wins; a shorter one does not cut a cooldown short
    if ((this.until.get(key) ?? 0) < until) this.until.set(key, until);
  }

  /** When the pair may be tried again (0: now). The whole upstream's cooldown counts too. */
  availableAt(upstream: string, deployment: string): number {
    const now = this.clock();
    let at = 0;
    for (const key of [Health.key(upstream, deployment), Health.key(upstream, null)]) {
      const until = this.until.get(key);
      if (until === undefined) continue;
      if (until <= now) this.until.delete(key);
      else at = Math.max(at, until);
    }
    return at;
  }

  /** Pairs cooling now, for /readyz and metrics. */
  cooling(): Array<{ upstream: string; deployment: string | null; until: number }> {
    const now = this.clock();
    const out = [];
    for (const [key, until] of this.until) {
      if (until <= now) continue;
      const slash = key.lastIndexOf("/");
      const deployment = key.slice(slash + 1);
      out.push({ upstream: key.slice(0, slash), deployment: deployment === "*" ? null : deployment, until });
    }
    return out;
  }
}
