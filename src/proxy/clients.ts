/**
 * A configured client key as the request path sees it (a name, its models, limits, budget and
 * admin right), built once per config for the HTTP key check (http/client-auth.ts) and the
 * Realtime upgrade's (realtime/client-keys.ts), so the two can never disagree about a key.
 */
import type { ClientKeyConfig } from "../config/schema.ts";
import type { Client } from "../config/client.ts";
import { digestOf, findKey } from "../lib/constant-time.ts";

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
function keyDigests(keys: readonly ClientKeyConfig[]): Uint8Array[] {
  return keys.map((k) => (k.key_sha256 !== undefined ? Uint8Array.from(k.key_sha256.match(/../g)!.map((byte) => parseInt(byte, 16))) : digestOf(k.key!)));
}

/**
 * The client a presented key belongs to, or undefined. Keys are compared as SHA-256 digests in
 * constant time (a config may hold `key_sha256` instead of the key). A key that matched a key
 * configured in plain text is remembered (at most one entry per such key, since only matches
 * are kept), so steady traffic hashes nothing: a map lookup's time follows the string's hash,
 * not how many leading characters a guess shares with a key, and a guess that misses still
 * takes the constant-time path. A `key_sha256` key is never remembered: its point is that the
 * proxy holds no plain key.
 */
export function clientLookup(keys: readonly ClientKeyConfig[]): (key: string) => Client | undefined {
  const digests = keyDigests(keys);
  const known = keys.map(clientOfKey);
  const matched = new Map<string, Client>();
  return (key) => {
    const remembered = matched.get(key);
    if (remembered) return remembered;
    const index = findKey(key, digests);
    if (index === -1) return undefined;
    if (keys[index]!.key !== undefined) matched.set(key, known[index]!);
    return known[index];
  };
}
