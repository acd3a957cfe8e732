/**
 * A worker's view of object ownership with a state file: the primary holds the one connection
 * that writes it (as for the usage ledger), workers ask it. Only calls on owned objects (files,
 * batches, vector stores, fine-tuning jobs, stored responses) pay the round trip. (`id` is the
 * link's own field: the object goes as `object`.)
 */
import type { Owners } from "../state/ownership/owners.ts";
import type { Link } from "./link.ts";
import type { ToPrimary, ToWorker } from "./messages.ts";

const ASK_TIMEOUT_MS = 5000;

export class SharedOwners implements Owners {
  constructor(private readonly primary: Link<ToPrimary, ToWorker>) {}

  async ownersOf(ids: readonly string[]): Promise<Map<string, string>> {
    return new Map(Object.entries(await this.primary.request<Record<string, string>>({ t: "owners-of", ids }, ASK_TIMEOUT_MS)));
  }

  async claim(id: string, key: string): Promise<void> {
    await this.primary.request({ t: "owner-claim", object: id, key }, ASK_TIMEOUT_MS);
  }
}
