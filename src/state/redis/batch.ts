/**
 * What the Redis state writes after answers, summed in memory and sent as one pipeline: ledger
 * rows, each key's spent totals (what budgets read), and tokens per second for tpm limits. A
 * batch that could not be written is kept and sent again, as it was, so a Redis outage delays
 * usage but loses none (unless the process stops before Redis is back) and counts none twice.
 */
import { addInto, rowKey, utcDay, type UsageRow } from "../usage-row.ts";
import type { RedisKeys } from "./keys.ts";
import { MAX_REPORT_DAYS } from "../period.ts";

const DAY_TTL_S = 3 * 86_400;
const MONTH_TTL_S = 33 * 86_400;
/** A tpm window reads the last 60 s (admit-script.ts). */
const TOKENS_TTL_S = 61;

export class RedisBatch {
  private rows = new Map<string, UsageRow>();
  /** key → second → tokens */
  private tokens = new Map<string, Map<number, number>>();

  constructor(private readonly keys: RedisKeys) {}

  get empty(): boolean {
    return this.rows.size === 0 && this.tokens.size === 0;
  }

  addRow(row: UsageRow): void {
    const id = rowKey(row.day, row.key, row.model, row.upstream);
    const held = this.rows.get(id);
    if (held) addInto(held, row);
    else this.rows.set(id, { ...row });
  }

  addTokens(key: string, at: number, tokens: number): void {
    let seconds = this.tokens.get(key);
    if (!seconds) {
      seconds = new Map();
      this.tokens.set(key, seconds);
    }
    const second = Math.floor(at / 1000);
    seconds.set(second, (seconds.get(second) ?? 0) + tokens);
    // Held through a Redis outage, a key's seconds would grow with its length: past a window's
    // worth, the ones no window reads any more go (a Map keeps insertion order, oldest first).
    if (seconds.size > TOKENS_TTL_S) {
      for (const held of seconds.keys()) {
        if (held >= second - TOKENS_TTL_S) break;
        seconds.delete(held);
      }
    }
  }

  /**
   * Take what is pending, as the argument list of WRITE_SCRIPT: ("i"|"f", key, field, n) for
   * HINCRBY / HINCRBYFLOAT, ("e", key, seconds) for EXPIRE.
   */
  take(): string[] {
    const ops: string[] = [];
    const incr = (key: string, field: string, n: number) => ops.push("i", key, field, String(n));
    const incrFloat = (key: string, field: string, n: number) => ops.push("f", key, field, String(n));
    for (const r of this.rows.values()) {
      const hash = this.keys.usage(r.day);
      const field = `${r.key}\u0000${r.model}\u0000${r.upstream}\u0000`;
      incr(hash, `${field}requests`, r.requests);
      if (r.prompt) incr(hash, `${field}prompt`, r.prompt);
      if (r.cached) incr(hash, `${field}cached`, r.cached);
      if (r.completion) incr(hash, `${field}completion`, r.completion);
      if (r.cost) incrFloat(hash, `${field}cost`, r.cost);
      const tokens = r.prompt + r.completion;
      if (tokens === 0 && r.cost === 0) continue;
      for (const [period, ttl] of [
        [r.day, DAY_TTL_S],
        [r.day.slice(0, 7), MONTH_TTL_S],
      ] as const) {
        const spent = this.keys.spent(r.key, period);
        incr(spent, "t", tokens);
        if (r.cost) incrFloat(spent, "c", r.cost);
        ops.push("e", spent, String(ttl));
      }
    }
    for (const [key, seconds] of this.tokens) {
      const hash = this.keys.tokens(key);
      // seconds a window no longer reads (at most a window's worth, addTokens) the admit script drops
      for (const [second, n] of seconds) incr(hash, String(second), n);
      ops.push("e", hash, String(TOKENS_TTL_S));
    }
    this.rows = new Map();
    this.tokens = new Map();
    return ops;
  }
}

/** What batches (take()'s argument lists) add to the ledger: for the log line of usage that could not be written. */
export function ledgerSums(batches: readonly string[][]): { requests: number; tokens: number } {
  let requests = 0;
  let tokens = 0;
  for (const ops of batches) {
    for (let i = 0; i < ops.length; ) {
      if (ops[i] === "e") {
        i += 3;
        continue;
      }
      const field = ops[i + 2]!;
      const n = Number(ops[i + 3]);
      if (field.endsWith("\u0000requests")) requests += n;
      else if (field.endsWith("\u0000prompt") || field.endsWith("\u0000completion")) tokens += n;
      i += 4;
    }
  }
  return { requests, tokens };
}

/**
 * One batch, applied at most once: its id is set first (NX), and a batch whose id is already
 * there is skipped. A batch whose reply was lost (Redis died right after running it) can so be
 * sent again without counting anything twice. Keys are built here, not passed as KEYS: fine for
 * one Redis (or a replicated one), not for a Redis Cluster.
 */
export const WRITE_SCRIPT = `
if not redis.call('SET', KEYS[1], '1', 'NX', 'EX', 86400) then return 0 end
local i = 1
while i <= #ARGV do
  local op = ARGV[i]
  if op == 'i' then redis.call('HINCRBY', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]); i = i + 4
  elseif op == 'f' then redis.call('HINCRBYFLOAT', ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]); i = i + 4
  else redis.call('EXPIRE', ARGV[i + 1], ARGV[i + 2]); i = i + 3 end
end
return 1
`;

/** The ledger rows of one day's hash, as HGETALL returns it. */
export function rowsOfDay(day: string, hash: Record<string, string>): UsageRow[] {
  const rows = new Map<string, UsageRow>();
  for (const [field, value] of Object.entries(hash)) {
    const [key, model, upstream, measure] = field.split("\u0000");
    if (measure === undefined) continue;
    const id = `${key}\u0000${model}\u0000${upstream}`;
    let row = rows.get(id);
    if (!row) {
      row = { day, key: key!, model: model!, upstream: upstream!, requests: 0, prompt: 0, cached: 0, completion: 0, cost: 0 };
      rows.set(id, row);
    }
    if (measure === "requests" || measure === "prompt" || measure === "cached" || measure === "completion" || measure === "cost") row[measure] = Number(value);
  }
  return [...rows.values()];
}

/** Every UTC day from `since` to `until`, at most `max` of them. */
export function daysBetween(since: string, until: string, max = MAX_REPORT_DAYS): string[] {
  const days: string[] = [];
  for (let t = Date.parse(`${since}T00:00:00Z`); days.length < max; t += 86_400_000) {
    const day = utcDay(t);
    if (day > until) break;
    days.push(day);
  }
  return days;
}
