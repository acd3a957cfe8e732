/**
 * Client keys for Realtime upgrades, checked as the HTTP routes check them (http/client-auth.ts:
 * SHA-256 digests compared in constant time), but from a key found anywhere a Realtime client
 * may put it, and before the upgrade, so a refused key is an ordinary 401.
 */
import type { ClientKeyConfig } from "../config/schema.ts";
import { digestOf, findKey } from "../lib/constant-time.ts";
import { Failure } from "../lib/failure.ts";
import type { Client } from "../proxy/call.ts";

const ANONYMOUS: Client = Object.freeze({ name: "anonymous", models: null, limits: {} });

export type KeyCheck = (key: string | null) => Client;

export function realtimeKeyCheck(keys: readonly ClientKeyConfig[], open: boolean): KeyCheck {
  const digests = keys.map((k) => (k.key_sha256 !== undefined ? Uint8Array.from(k.key_sha256.match(/../g)!.map((b) => parseInt(b, 16))) : digestOf(k.key!)));
  const known = keys.map(
    (k): Client => Object.freeze({ name: k.name, models: k.models ? new Set(k.models) : null, limits: { rpm: k.rpm, tpm: k.tpm, maxStreams: k.max_streams } }),
  );
  return (key) => {
    if (open) return ANONYMOUS;
    if (key === null) {
      throw new Failure(
        "unauthorized",
        "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY', the 'api-key' header, or (browsers) the subprotocol 'openai-insecure-api-key.YOUR_KEY'.",
        { code: "missing_api_key" },
      );
    }
    const index = findKey(key, digests);
    if (index === -1) throw new Failure("unauthorized", "Incorrect API key provided.", { code: "invalid_api_key" });
    return known[index]!;
  };
}
