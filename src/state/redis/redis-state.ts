/**
 * Limits, budgets and the usage ledger shared through Redis (`state.redis`) by every instance
 * and worker. Before a limited call: one round trip (the admit script); a key with no rpm, tpm,
 * max_streams or budget sends nothing. After an answer: the usage joins a batch written every
 * 250 ms, applied exactly once (batch.ts); while Redis is away it is summed, not queued. When Redis fails or is slower than 50 ms, the call is decided here, from this
 * instance's own counters (the full limit, since the number of instances is unknown) and the
 * key's spent totals as Redis last told them plus what this instance spent since; it never
 * fails for want of Redis.
 */
import { Failure } from "../../lib/failure.ts";
import type { Logger } from "../../lib/log.ts";
import { limited, Limiter, type KeyLimits, type LimitedClient, type ReleaseSlot } from "../../ratelimit/limiter.ts";
import { addSpend, emptyTotals, overBudget, type SpentTotals } from "../budget.ts";
import { costOf, type Prices } from "../prices.ts";
import type { BudgetedClient, Spending } from "../spending.ts";
import { utcDay, type UsageEntry, type UsageRow } from "../usage-row.ts";
import { daysBetween, ledgerSums, RedisBatch, rowsOfDay, WRITE_SCRIPT } from "./batch.ts";
import { ADMIT_SCRIPT, STREAM_SCRIPT } from "./admit-script.ts";
import { CHECK_TIMEOUT_MS, type RedisConnection } from "./connection.ts";
import type { RedisKeys } from "./keys.ts";

export const BATCH_MS = 250;
const WRITE_TIMEOUT_MS = 2000;
const LEASE_MS = 60_000;

/** `work` settled (it never rejects here), or `ms` passed, whichever is first. */
function settledWithin(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void work.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

type Client = LimitedClient & Partial<BudgetedClient>;
type AdmitReply = [number, number, string, string, string, string];
interface Scripted {
  azpAdmit(...args: Array<string | number>): Promise<AdmitReply>;
  azpStream(...args: Array<string | number>): Promise<number>;
  azpWrite(...args: string[]): Promise<number>;
}

export class RedisState implements KeyLimits, Spending {
  private readonly local: Limiter;
  private readonly batch: RedisBatch;
  /** Spent totals per key with a budget: from Redis's last answer, plus our calls since. */
  private readonly totals = new Map<string, SpentTotals>();
  /** Keys seen with a tpm limit: only their tokens are worth counting in Redis. */
  private readonly tpmKeys = new Set<string>();
  /** Stream slots held in Redis, renewed while open: member → slots key. */
  private readonly leases = new Map<string, string>();
  private nextLease = 1;
  private readonly instance = crypto.randomUUID();
  private readonly timers: Array<ReturnType<typeof setInterval>>;
  private flushing: Promise<void> | undefined;
  /** Batches not yet written, oldest first. */
  private readonly unsent: Array<{ id: string; ops: string[] }> = [];
  private nextBatch = 1;
  /** Redis round trips made before calls (admit and stream scripts), for the benchmark. */
  roundTrips = 0;

  constructor(
    private readonly redis: RedisConnection,
    private readonly keys: RedisKeys,
    private prices: Prices,
    private readonly clock: () => number,
    private readonly log: Logger,
  ) {
    this.local = new Limiter(clock);
    this.batch = new RedisBatch(keys);
    redis.client.defineCommand("azpAdmit", { numberOfKeys: 4, lua: ADMIT_SCRIPT });
    redis.client.defineCommand("azpStream", { numberOfKeys: 1, lua: STREAM_SCRIPT });
    redis.client.defineCommand("azpWrite", { numberOfKeys: 1, lua: WRITE_SCRIPT });
    this.timers = [setInterval(() => void this.flush(), BATCH_MS), setInterval(() => void this.renewLeases(), LEASE_MS / 3)];
    for (const t of this.timers) (t as { unref?: () => void }).unref?.();
  }

  private get scripted(): Scripted {
    return this.redis.client as unknown as Scripted;
  }

  async admit(client: Client): Promise<void> {
    const { rpm, tpm } = client.limits;
    const budget = client.budget;
    if (rpm === undefined && tpm === undefined && budget === undefined) return;
    if (tpm !== undefined) this.tpmKeys.add(client.name);
    const now = this.clock();
    const day = utcDay(now);
    this.roundTrips++;
    const reply = await this.redis.guarded(
      "admit",
      () =>
        this.scripted.azpAdmit(
          this.keys.requests(client.name),
          this.keys.tokens(client.name),
          this.keys.spent(client.name, day),
          this.keys.spent(client.name, day.slice(0, 7)),
          now,
          rpm ?? -1,
          tpm ?? -1,
          budget?.tokens_per_day ?? -1,
          budget?.usd_per_day ?? -1,
          budget?.tokens_per_month ?? -1,
          budget?.usd_per_month ?? -1,
        ),
      CHECK_TIMEOUT_MS,
    );
    if (!reply) return this.admitLocally(client, now);
    const [verdict, wait, dT, dC, mT, mC] = reply;
    if (budget) {
      const totals = { day, dayTokens: Number(dT), dayCost: Number(dC), month: day.slice(0, 7), monthTokens: Number(mT), monthCost: Number(mC) };
      this.totals.set(client.name, totals);
      if (verdict === 3)
        throw (
          overBudget(client.name, budget, totals, now) ??
          new Failure("quota_exceeded", `The key '${client.name}' is past a budget.`, { code: "insufficient_quota", headers: { "x-should-retry": "false" } })
        );
    }
    if (verdict === 1) throw limited(client, `${rpm} requests per minute`, wait);
    if (verdict === 2) throw limited(client, `${tpm} tokens per minute`, wait);
  }

  async openStream(client: LimitedClient): Promise<ReleaseSlot> {
    const max = client.limits.maxStreams;
    if (max === undefined) return () => {};
    const member = `${this.instance}:${this.nextLease++}`;
    const slots = this.keys.streams(client.name);
    this.roundTrips++;
    const taken = await this.redis.guarded("stream", () => this.scripted.azpStream(slots, this.clock(), max, member, LEASE_MS), CHECK_TIMEOUT_MS);
    if (taken === undefined) return this.local.openStream(client);
    if (taken === 0) throw limited(client, `${max} concurrent streams`, 1000);
    this.leases.set(member, slots);
    return () => {
      if (!this.leases.delete(member)) return;
      // never rejects: a failed or slow write is counted, and the lease's expiry frees the slot
      const written = this.redis.guarded("stream", () => this.redis.client.zrem(slots, member), WRITE_TIMEOUT_MS);
      // a stream's end waits for it no longer than a limit check may take; the write goes on
      return settledWithin(written, CHECK_TIMEOUT_MS);
    };
  }

  addTokens(keyName: string, tokens: number): void {
    const now = this.clock();
    this.local.addTokens(keyName, tokens);
    if (this.tpmKeys.has(keyName)) this.batch.addTokens(keyName, now, tokens);
  }

  record(entry: UsageEntry): void {
    const cost = costOf(this.prices, entry.model, entry.prompt, entry.cached, entry.completion);
    const day = utcDay(entry.at);
    this.batch.addRow({
      day,
      key: entry.key,
      model: entry.model,
      upstream: entry.upstream,
      requests: entry.requests ?? 1,
      prompt: entry.prompt,
      cached: entry.cached,
      completion: entry.completion,
      cost,
    });
    const totals = this.totals.get(entry.key);
    if (totals) {
      // kept up to date for an outage; Redis's own count replaces it on the next admit
      addSpend(totals, entry.at, entry.prompt + entry.completion, cost);
    }
  }

  async report(since: string, until: string): Promise<UsageRow[]> {
    await this.flush();
    const days = daysBetween(since, until);
    const pipeline = this.redis.client.pipeline();
    for (const day of days) pipeline.hgetall(this.keys.usage(day));
    const answers = await this.redis.guarded("report", () => pipeline.exec(), 10_000);
    if (!answers)
      throw new Failure("state_unavailable", "The usage report needs Redis (state.redis), which does not answer now; try again shortly.", {
        code: "state_unavailable",
        headers: { "retry-after": "1" },
      });
    return answers.flatMap(([error, hash], i) => (error ? [] : rowsOfDay(days[i]!, hash as Record<string, string>)));
  }

  configure(prices: Prices): void {
    this.prices = prices;
  }

  /**
   * Send what is pending as one batch; a batch that fails is kept and sent again, first and
   * unchanged (same id), so Redis applies each exactly once.
   */
  flush(): Promise<void> {
    if (this.batch.empty && this.unsent.length === 0) return this.flushing ?? Promise.resolve();
    this.flushing ??= (async () => {
      this.takeBatch();
      while (this.unsent.length > 0) {
        const { id, ops } = this.unsent[0]!;
        const written = await this.redis.guarded("write", () => this.scripted.azpWrite(id, ...ops), WRITE_TIMEOUT_MS);
        if (written === undefined) break;
        // what was summed behind it goes at the next tick: taken here, a loaded proxy would
        // write a batch every round trip instead of every 250 ms
        this.unsent.shift();
      }
      this.flushing = undefined;
    })();
    return this.flushing;
  }

  /** Batches waiting to be written to Redis: 0, or 1 while it is away. */
  get unsentBatches(): number {
    return this.unsent.length;
  }

  /**
   * The pending usage as a batch of its own, once no earlier batch waits. While one waits (Redis
   * is away), what comes after it goes on summing in `batch`, one row per key, model, upstream
   * and day: an outage of any length holds what was used, not a batch for every 250 ms of it.
   */
  private takeBatch(): void {
    if (this.unsent.length > 0 || this.batch.empty) return;
    this.unsent.push({ id: `${this.keys.batch(this.instance)}:${this.nextBatch++}`, ops: this.batch.take() });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await this.flushing;
    await this.flush();
    if (this.unsent.length > 0) {
      const lost = [...this.unsent.map((b) => b.ops), this.batch.take()];
      this.log.error("state: Redis is unavailable at stop; the usage of the last calls is lost", ledgerSums(lost));
    }
    await this.redis.close();
  }

  private admitLocally(client: Client, now: number): void {
    if (client.budget) {
      const known = this.totals.get(client.name) ?? emptyTotals(now);
      const refusal = overBudget(client.name, client.budget, known, now);
      if (refusal) throw refusal;
    }
    this.local.admit(client);
  }

  private async renewLeases(): Promise<void> {
    if (this.leases.size === 0) return;
    const until = this.clock() + LEASE_MS;
    const pipeline = this.redis.client.pipeline();
    for (const [member, slots] of this.leases) pipeline.zadd(slots, "XX", until, member).pexpire(slots, LEASE_MS);
    await this.redis.guarded("stream", () => pipeline.exec(), WRITE_TIMEOUT_MS);
  }
}
