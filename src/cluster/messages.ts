/**
 * Every message between the primary and its workers, one union per direction, so each end's
 * `switch (message.t)` is checked against what the other end can send. A message sent with
 * `request` is answered (link.ts); the others are notices.
 */
import type { Config } from "../config/schema.ts";
import type { LimitedClient } from "../ratelimit/limiter.ts";
import type { BudgetedClient } from "../state/spending.ts";
import type { UsageEntry } from "../state/usage-row.ts";
import type { Cooldown } from "../upstream/health.ts";

/** Worker → primary. */
export type ToPrimary =
  /** The worker is up and listens for `start`. */
  | { readonly t: "hello" }
  /** The worker stopped serving; `cut` requests were still in flight (answered: then it exits). */
  | { readonly t: "stopped"; readonly cut: number }
  /** A cooldown this worker saw, for every other worker (answered once they all know). */
  | { readonly t: "cooldown"; readonly cooldown: Cooldown }
  /** rpm: may this key make a request now? (answered, or a Failure) */
  | { readonly t: "admit"; readonly client: LimitedClient }
  /** max_streams: hold a slot under this worker's number for it. */
  | { readonly t: "stream-open"; readonly client: LimitedClient; readonly slot: number }
  /** The slot is free again; `abandoned`: its open was given up before it was answered. */
  | { readonly t: "stream-close"; readonly slot: number; readonly abandoned?: boolean }
  /** tpm: tokens a key used. */
  | { readonly t: "tokens"; readonly key: string; readonly tokens: number }
  /** Budgets: may this key spend now? */
  | { readonly t: "budget"; readonly client: BudgetedClient }
  /** One finished call, for the usage ledger. */
  | { readonly t: "usage"; readonly entry: UsageEntry }
  /** The ledger's rows between two UTC days. */
  | { readonly t: "usage-report"; readonly since: string; readonly until: string }
  /** Object ownership: who created these objects. */
  | { readonly t: "owners-of"; readonly ids: readonly string[] }
  | { readonly t: "owner-claim"; readonly object: string; readonly key: string }
  /** /metrics: every worker's registry, summed. */
  | { readonly t: "metrics" }
  /** /admin/status: every worker's part, summed (status-sum.ts). */
  | { readonly t: "status" };

/** Primary → worker. */
export type ToWorker =
  /** Listen on `port` with `config`; `cooling` are the cooldowns so far. Answered with the address. */
  | { readonly t: "start"; readonly config: Config; readonly port: number; readonly index: number; readonly cooling: readonly Cooldown[] }
  /** A reloaded config. */
  | { readonly t: "config"; readonly config: Config }
  /** A cooldown another worker saw. */
  | { readonly t: "cooldown"; readonly cooldown: Cooldown }
  /** This worker's metrics, as prom-client's JSON. */
  | { readonly t: "collect" }
  /** Stop taking requests, finish those in flight. */
  | { readonly t: "drain" }
  /** End the drain now. */
  | { readonly t: "cut" }
  /** A reload was refused (the file was invalid): the status page says so. */
  | { readonly t: "reload-failed"; readonly issues: readonly string[] }
  /** This worker's part of /admin/status. */
  | { readonly t: "status-part" };
