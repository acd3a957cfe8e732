/**
 * A configured client key as the request path sees it (a name, its models, limits, budget and
 * admin right), built once per config for the HTTP key check (http/client-auth.ts) and the
 * Realtime upgrade's (realtime/client-keys.ts), so the two can never disagree about a key.
 */
import type { ClientKeyConfig } from "../config/schema.ts";
import type { Client } from "../config/client.ts";

export const ANONYMOUS_CLIENT: Client = Object.freeze({ name: "anonymous", models: null, limits: {}, admin: false });

export function clientOfKey(k: ClientKeyConfig): Client {
  return Object.freeze({
    name: k.name,
    models: k.models ? new Set(k.models) : null,
    limits: { rpm: k.rpm, tpm: k.tpm, maxStreams: k.max_streams },
    budget: k.budget,
    admin: k.admin === true,
  });
}

/** The SHA-256 digest each key is compared by (constant time), in the order of `keys`. */
export function keyDigests(keys: readonly ClientKeyConfig[], digestOf: (key: string) => Uint8Array): Uint8Array[] {
  return keys.map((k) => (k.key_sha256 !== undefined ? Uint8Array.from(k.key_sha256.match(/../g)!.map((byte) => parseInt(byte, 16))) : digestOf(k.key!)));
}
