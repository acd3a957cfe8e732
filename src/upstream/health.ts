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
  /** Our guess, not Azure's word: tried anyway when no other deployment is ready. */
  readonly soft?: boolean;
  /** The deployment's name came from a client (any_model), not from the config. */
  readonly open?: boolean;
}

/** Resolves once every sibling process knows of the cooldown. */
export type TellSiblings = (cooldown: Cooldown) => Promise<void>;

const ALONE: Promise<void> = Promise.resolve();
/**
 * Deployment names can come from clients (any_model), so the map is bounded: past this many
 * entries, expired ones are swept, then the soonest-ending deployment ones make room (a whole
 * resource's cooldown is never dropped: there are only as many as configured upstreams).
 */
export const MAX_COOLDOWNS = 10_000;
/**
 * Deployments named by clients (any_model: not in the config) cooling at once. Each is a series of
 * azure_proxy_upstream_cooldown; past this, such a name fails over without cooling.
 */
export const MAX_OPEN_COOLDOWNS = 100;

export class Health {
  /** Azure asked for these (429/503 Retry-After) or the resource is gone: never tried before their end. */
  private readonly until = new Map<string, number>();
  /** Our own guesses (a 500): skipped while others are ready, tried as a last resort. */
  private readonly softUntil = new Map<string, number>();
  /** Keys of cooling deployments whose names came from clients, with their end. */
  private readonly open = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly tell?: TellSiblings,
    private readonly max = MAX_COOLDOWNS,
  ) {}

  get size(): number {
    return this.until.size + this.softUntil.size;
  }

  static key(upstream: string, deployment: string | null): string {
    return `${upstream}/${deployment ?? "*"}`;
  }

  /** Cool the pair for `ms`; resolves once sibling processes know (at once when alone). */
  coolDown(upstream: string, deployment: string | null, ms: number, soft = false, open = false): Promise<void> {
    const cooldown: Cooldown = { upstream, deployment, until: this.clock() + ms, ...(soft ? { soft } : {}), ...(open ? { open } : {}) };
    if (!this.coolUntil(cooldown) || !this.tell) return ALONE;
    return this.tell(cooldown);
  }

  /** Apply a cooldown (also one a sibling process saw); false when a longer one already runs. */
  coolUntil({ upstream, deployment, until, soft, open }: Cooldown): boolean {
    const key = Health.key(upstream, deployment);
    if (open && !this.roomForOpen(key, until)) return false;
    const map = soft ? this.softUntil : this.until;
    // a later, longer answer wins; a shorter one does not cut a cooldown short
    const current = map.get(key);
    if ((current ?? 0) >= until) return false;
    if (current === undefined && map.size >= this.max) this.makeRoom(map);
    map.set(key, until);
    return true;
  }

  /** When the pair may be tried again (0: now). The whole upstream's cooldown counts too. */
  availableAt(upstream: string, deployment: string): number {
    return Math.max(this.endOf(this.until, upstream, deployment), this.endOf(this.softUntil, upstream, deployment));
  }

  /** Whether the pair cools only by our own guess, so it may be tried when nothing else is ready. */
  lastResort(upstream: string, deployment: string): boolean {
    return this.endOf(this.until, upstream, deployment) === 0;
  }

  /** Pairs cooling at `now` (default: the clock's now), for /readyz, metrics and the status report. */
  cooling(now = this.clock()): Cooldown[] {
    const out: Cooldown[] = [];
    for (const [map, soft] of [
      [this.until, false],
      [this.softUntil, true],
    ] as const) {
      for (const [key, until] of map) {
        if (until <= now) continue;
        const slash = key.indexOf("/");
        const deployment = key.slice(slash + 1);
        out.push({ upstream: key.slice(0, slash), deployment: isResourceKey(key) ? null : deployment, until, ...(soft ? { soft } : {}) });
      }
    }
    return out;
  }

  private endOf(map: Map<string, number>, upstream: string, deployment: string): number {
    if (map.size === 0) return 0;
    const now = this.clock();
    let at = 0;
    for (const key of [Health.key(upstream, deployment), Health.key(upstream, null)]) {
      const until = map.get(key);
      if (until === undefined) continue;
      if (until <= now) map.delete(key);
      else at = Math.max(at, until);
    }
    return at;
  }

  private roomForOpen(key: string, until: number): boolean {
    if (!this.open.has(key) && this.open.size >= MAX_OPEN_COOLDOWNS) {
      const now = this.clock();
      for (const [k, end] of this.open) if (end <= now) this.open.delete(k);
      if (this.open.size >= MAX_OPEN_COOLDOWNS) return false;
    }
    this.open.set(key, Math.max(until, this.open.get(key) ?? 0));
    return true;
  }

  private makeRoom(map: Map<string, number>): void {
    const now = this.clock();
    for (const [key, until] of map) if (until <= now) map.delete(key);
    if (map.size < this.max) return;
    const byEnd = [...map].filter(([key]) => !isResourceKey(key)).sort((a, b) => a[1] - b[1]);
    // a tenth at once, so a flood pays the sort once per many entries
    for (const [key] of byEnd.slice(0, Math.max(1, Math.ceil(this.max / 10)))) map.delete(key);
  }
}

/** Upstream names have no "/" (config schema), so a resource's key is the only one with a single "/" before its "*". */
function isResourceKey(key: string): boolean {
  return key.endsWith("/*") && key.indexOf("/") === key.length - 2;
}
