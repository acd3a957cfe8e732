/**
 * A worker's view of the per-key limits: the counting happens in the primary process, which
 * holds the one Limiter, so N workers enforce a key's 60 requests per minute as 60, not N × 60.
 * Keys without limits (the usual case) never cross the process boundary; a limited key pays one
 * IPC round trip (~15 µs on Bun) per request, plus one per stream.
 */
import { Failure } from "../lib/failure.ts";
import type { KeyLimits, LimitedClient } from "../ratelimit/limiter.ts";
import type { Link } from "./link.ts";
import type { ToPrimary, ToWorker } from "./messages.ts";

const ASK_TIMEOUT_MS = 5000;

export class SharedLimits implements KeyLimits {
  private nextSlot = 1;
  /** Keys seen with a tpm limit: only their usage is worth a message. */
  private readonly counted = new Set<string>();

  constructor(private readonly primary: Link<ToPrimary, ToWorker>) {}

  async admit(client: LimitedClient): Promise<void> {
    const { rpm, tpm } = client.limits;
    if (tpm !== undefined) this.counted.add(client.name);
    if (rpm === undefined && tpm === undefined) return;
    await this.ask({ t: "admit", client: wire(client) });
  }

  async openStream(client: LimitedClient): Promise<() => void> {
    if (client.limits.maxStreams === undefined) return () => {};
    // numbered here, so a slot we stop waiting for can still be given back
    const slot = this.nextSlot++;
    try {
      await this.ask({ t: "stream-open", client: wire(client), slot });
    } catch (error) {
      if (!(error instanceof Failure && error.kind === "rate_limited")) this.primary.notify({ t: "stream-close", slot, abandoned: true });
      throw error;
    }
    let open = true;
    return () => {
      if (open) this.primary.notify({ t: "stream-close", slot });
      open = false;
    };
  }

  addTokens(keyName: string, tokens: number): void {
    if (this.counted.has(keyName)) this.primary.notify({ t: "tokens", key: keyName, tokens });
  }

  private async ask<T>(message: ToPrimary): Promise<T> {
    try {
      return await this.primary.request<T>(message, ASK_TIMEOUT_MS);
    } catch (error) {
      if (error instanceof Failure) throw error; // the limit's own 429 (or the primary's failure)
      // the primary is gone or stuck: refuse rather than count nothing
      throw new Failure("internal", `The rate limiter is unavailable: ${(error as Error).message}.`, { code: "rate_limiter_unavailable" });
    }
  }
}

function wire(client: LimitedClient): LimitedClient {
  return { name: client.name, limits: { ...client.limits } };
}
