/**
 * Cooldowns: which (upstream, deployment) pairs must not be tried until when. Throttling is
 * tracked per deployment, not per resource (Azure/aoai-smart-loadbalancing#7: one deployment's
 * 429 says nothing about the resource's others); an unreachable resource cools as a whole.
 * Runtime state: it outlives config reloads, and is kept apart from the frozen config.
 * With several worker processes, each cooldown is told to the others (`tell`), so a deployment
 * that answered 429 in one process is skipped by all.
 */
export type Clock = () => number;

export interface Cooldown {
  readonly upstream: string;
  readonly deployment: string | null;
  /** Epoch ms; processes on one machine share the clock. */
  readonly until: number;
}

/** Resolves once every sibling process knows of the cooldown. */
export type TellSiblings = (cooldown: Cooldown) => Promise<void>;

const ALONE: Promise<void> = Promise.resolve();

export class Health {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly tell?: TellSiblings,
  ) {}

  static key(upstream: string, deployment: string | null): string {
    return `${upstream}/${deployment ?? "*"}`;
  }

  /** Cool the pair for `ms`; resolves once sibling processes know (at once when alone). */
  coolDown(upstream: string, deployment: string | null, ms: number): Promise<void> {
    const until = this.clock() + ms;
    if (!this.coolUntil({ upstream, deployment, until }) || !this.tell) return ALONE;
    return this.tell({ upstream, deployment, until });
  }

  /** Apply a cooldown (also one a sibling process saw); false when a longer one already runs. */
  coolUntil({ upstream, deployment, until }: Cooldown): boolean {
    const key = Health.key(upstream, deployment);
    // a later, longer answer wins; a shorter one does not cut a cooldown short
    if ((this.until.get(key) ?? 0) >= until) return false;
    this.until.set(key, until);
    return true;
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
  cooling(): Cooldown[] {
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
