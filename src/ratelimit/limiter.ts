/**
 * Per-key limits: requests per minute, tokens per minute (from Azure's usage, counted after each
 * answer, so a request is refused once the last minute's tokens reached the limit), and
 * concurrent streams. In memory, in one process: with several worker processes, the primary
 * holds the one Limiter and workers ask it (cluster/shared-limits.ts), so limits are exact across
 * workers; separate instances each enforce their own. State outlives config reloads, keyed by
 * key name.
 */
import { Failure } from "../lib/failure.ts";
import type { Client } from "../config/client.ts";
import { MinuteWindow } from "./minute-window.ts";

interface KeyState {
  readonly requests: MinuteWindow;
  readonly tokens: MinuteWindow;
  streams: number;
}

/**
 * Gives a stream slot back. A shared store (Redis) answers with a promise of its write, which a
 * stream's end waits for (stream/relay.ts, `beforeEnd`): a client that opens its next stream on
 * another instance as soon as it sees the end finds the slot free.
 */
export type ReleaseSlot = () => void | Promise<void>;

/** What the forwarder needs: answered at once here, or by asking the primary process. */
export interface KeyLimits {
  admit(client: LimitedClient): void | Promise<void>;
  openStream(client: LimitedClient): ReleaseSlot | Promise<ReleaseSlot>;
  addTokens(keyName: string, tokens: number): void;
}

export type LimitedClient = Pick<Client, "name" | "limits">;

export class Limiter implements KeyLimits {
  private readonly keys = new Map<string, KeyState>();

  constructor(private readonly clock: () => number) {}

  private state(name: string): KeyState {
    let state = this.keys.get(name);
    if (!state) {
      state = { requests: new MinuteWindow(), tokens: new MinuteWindow(), streams: 0 };
      this.keys.set(name, state);
    }
    return state;
  }

  /** Count a request against its key, or refuse it with a 429 that says when to come back. */
  admit(client: LimitedClient): void {
    const { rpm, tpm } = client.limits;
    if (rpm === undefined && tpm === undefined) return;
    const now = this.clock();
    const state = this.state(client.name);
    if (rpm !== undefined && state.requests.total(now) >= rpm) throw limited(client, `${rpm} requests per minute`, state.requests.msUntilBelow(now, rpm));
    if (tpm !== undefined && state.tokens.total(now) >= tpm) throw limited(client, `${tpm} tokens per minute`, state.tokens.msUntilBelow(now, tpm));
    state.requests.add(now, 1);
  }

  /** Hold a stream slot for the key; the returned function gives it back. */
  openStream(client: LimitedClient): () => void {
    const max = client.limits.maxStreams;
    if (max === undefined) return () => {};
    const state = this.state(client.name);
    if (state.streams >= max) throw limited(client, `${max} concurrent streams`, 1000);
    state.streams++;
    let open = true;
    return () => {
      if (open) state.streams--;
      open = false;
    };
  }

  addTokens(keyName: string, tokens: number): void {
    this.state(keyName).tokens.add(this.clock(), tokens);
  }
}

export function limited(client: LimitedClient, what: string, waitMs: number): Failure {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new Failure("rate_limited", `Rate limit reached for key '${client.name}': ${what}. Retry after ${seconds} s.`, {
    code: "rate_limit_exceeded",
    headers: { "retry-after": String(seconds), "retry-after-ms": String(Math.max(1, Math.ceil(waitMs))) },
  });
}
