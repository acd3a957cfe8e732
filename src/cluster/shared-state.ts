/**
 * What the primary of a worker pool keeps for all its workers, and its answers to their asks:
 *   - cooldowns: one worker's 429 is relayed to the others before that worker answers its client;
 *   - per-key limits: the one Limiter lives here, so a key's limit holds across workers;
 *   - stream slots, by worker, so a worker's death gives its slots back;
 *   - metrics: /metrics on any worker sums every worker's registry, at most once a second
 *     however often it is scraped (several scrapers, or one scraping each worker): the sum
 *     runs on this process's one thread, where every worker's limit checks are answered too.
 *   - the usage ledger and budgets (one writer of the SQLite file), told each finished call;
 *   - /admin/status's in-flight counts, minutes and headroom, summed like metrics (status-sum.ts).
 */
import { Failure } from "../lib/failure.ts";
import { Limiter, type LimitedClient } from "../ratelimit/limiter.ts";
import type { Owners } from "../state/ownership/owners.ts";
import type { Spending } from "../state/spending.ts";
import { Health, type Cooldown } from "../upstream/health.ts";
import type { Respond } from "./link.ts";
import type { ToPrimary } from "./messages.ts";
import type { Peer } from "./peer.ts";
import { StatusSum } from "./status-sum.ts";

const ASK_TIMEOUT_MS = 2000;
/** A scrape within this long after the last sum began gets that sum. */
const METRICS_MAX_AGE_MS = 1000;

/** A worker as seen from here. */

export class SharedState {
  private readonly health = new Health(Date.now);
  private readonly limiter = new Limiter(Date.now);
  /** Releases of the stream slots held, by "worker:slot" (each worker numbers its own). */
  private readonly slots = new Map<string, () => void>();
  /** Slots a worker closed before their open was answered (it gave up waiting). */
  private readonly abandoned = new Set<string>();

  private readonly status = new StatusSum(() => this.peers());

  /** The last sum of the workers' metrics (or the one being made), and when it began. */
  private summed: { readonly at: number; readonly text: Promise<string> } | undefined;

  constructor(
    private readonly peers: () => Iterable<Peer>,
    readonly spending: Spending,
    private readonly owners?: Owners,
    /** Told after each sum: how many workers answered, and how long it took. */
    private readonly onSummed: (workers: number, ms: number) => void = () => {},
  ) {}

  /** Cooldowns now: what a worker starting later is given. */
  cooling(): Cooldown[] {
    return this.health.cooling();
  }

  /** Answer `message` if it is about shared state; false when it is not. */
  answer(from: Peer, message: ToPrimary, respond: Respond | undefined): boolean {
    try {
      switch (message.t) {
        case "cooldown":
          void this.relayCooldown(from, message.cooldown).then(() => respond?.(true));
          return true;
        case "admit":
          this.limiter.admit(message.client);
          respond?.(true);
          return true;
        case "stream-open":
          this.openSlot(`${from.index}:${message.slot}`, message.client, respond!, 0);
          return true;
        case "stream-close": {
          const slot = `${from.index}:${message.slot}`;
          const release = this.slots.get(slot);
          if (release) release();
          else if (message.abandoned) this.abandoned.add(slot);
          return true;
        }
        case "tokens":
          this.limiter.addTokens(message.key, message.tokens);
          return true;
        case "budget":
          void Promise.resolve(this.spending.admit(message.client)).then(
            () => respond?.(true),
            (error: Error) => respond?.(error instanceof Failure ? error : new Failure("internal", error.message)),
          );
          return true;
        case "usage":
          this.spending.record(message.entry);
          return true;
        case "usage-report":
          this.spending.report(message.since, message.until).then(respond, (error: Error) => respond?.(new Failure("internal", `usage: ${error.message}`)));
          return true;
        case "owners-of":
          if (!this.owners) respond?.({});
          else
            this.owners.ownersOf(message.ids).then(
              (found) => respond?.(Object.fromEntries(found)),
              (error: Error) => respond?.(new Failure("internal", error.message)),
            );
          return true;
        case "owner-claim":
          if (!this.owners) respond?.(true);
          else
            this.owners.claim(message.object, message.key).then(
              () => respond?.(true),
              (error: Error) => respond?.(new Failure("internal", error.message)),
            );
          return true;
        case "metrics":
          this.metrics().then(respond, (error: Error) => respond?.(new Failure("internal", `metrics: ${error.message}`)));
          return true;
        case "status":
          this.status.get().then(respond, (error: Error) => respond?.(new Failure("internal", `status: ${error.message}`)));
          return true;
        default:
          return false;
      }
    } catch (error) {
      respond?.(error instanceof Failure ? error : new Failure("internal", (error as Error).message));
      return true;
    }
  }

  /** The worker is gone: the stream slots it held are free. */
  forget(peer: Peer): void {
    const prefix = `${peer.index}:`;
    for (const [slot, release] of this.slots) if (slot.startsWith(prefix)) release();
    for (const slot of this.abandoned) if (slot.startsWith(prefix)) this.abandoned.delete(slot);
  }

  /**
   * Hold a stream slot. A key at its limit is refused only after two short looks again: the
   * close of the stream its client just finished comes from another worker, over another
   * channel, and may arrive a moment after this open.
   */
  private openSlot(slot: string, client: LimitedClient, respond: Respond, tries: number): void {
    if (this.abandoned.delete(slot)) {
      respond(true);
      return;
    }
    let release: () => void;
    try {
      release = this.limiter.openStream(client);
    } catch (error) {
      if (error instanceof Failure && error.kind === "rate_limited" && tries < 2) {
        setTimeout(() => this.openSlot(slot, client, respond, tries + 1), 25);
        return;
      }
      respond(error instanceof Failure ? error : new Failure("internal", (error as Error).message));
      return;
    }
    this.slots.set(slot, () => {
      this.slots.delete(slot);
      release();
    });
    respond(true);
  }

  /** Tell every other worker; resolves when all have it (or could not be asked). */
  private async relayCooldown(from: Peer, cooldown: Cooldown): Promise<void> {
    this.health.coolUntil(cooldown);
    const others = [...this.peers()].filter((p) => p !== from && p.greeted);
    await Promise.allSettled(others.map((p) => p.link.request({ t: "cooldown", cooldown }, ASK_TIMEOUT_MS)));
  }

  private metrics(): Promise<string> {
    const now = Date.now();
    if (this.summed && now - this.summed.at < METRICS_MAX_AGE_MS) return this.summed.text;
    const text = this.sumMetrics();
    const summed = { at: now, text };
    this.summed = summed;
    // a failed sum is not kept: the next scrape tries again
    text.catch(() => {
      if (this.summed === summed) this.summed = undefined;
    });
    return text;
  }

  private async sumMetrics(): Promise<string> {
    const started = performance.now();
    const { AggregatorRegistry } = await import("prom-client");
    type Collected = Parameters<typeof AggregatorRegistry.aggregate>[0][number];
    const serving = [...this.peers()].filter((p) => p.started);
    const each = await Promise.allSettled(serving.map((p) => p.link.request<Collected>({ t: "collect" }, ASK_TIMEOUT_MS)));
    const registries = each.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
    const text = await AggregatorRegistry.aggregate(registries).metrics();
    this.onSummed(registries.length, performance.now() - started);
    return text;
  }
}
