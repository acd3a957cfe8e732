/**
 * Client keys for Realtime upgrades, checked as the HTTP routes check them (http/client-auth.ts:
 * SHA-256 digests compared in constant time), but from a key found anywhere a Realtime client
 * may put it, and before the upgrade, so a refused key is an ordinary 401.
 */
import type { ClientKeyConfig } from "../config/schema.ts";
import { Failure } from "../lib/failure.ts";
import type { Client } from "../config/client.ts";
import { ANONYMOUS_CLIENT, clientLookup } from "../proxy/clients.ts";

const ANONYMOUS: Client = ANONYMOUS_CLIENT;

export type KeyCheck = (key: string | null) => Client;

export function realtimeKeyCheck(keys: readonly ClientKeyConfig[], open: boolean): KeyCheck {
  const clientOf = clientLookup(keys);
  return (key) => {
    if (open) return ANONYMOUS;
    if (key === null) {
      throw new Failure(
        "unauthorized",
        "You didn't provide an API key. Send it as 'Authorization: Bearer YOUR_KEY', the 'api-key' header, or (browsers) the subprotocol 'openai-insecure-api-key.YOUR_KEY'.",
        { code: "missing_api_key" },
      );
    }
    const client = clientOf(key);
    if (client === undefined) throw new Failure("unauthorized", "Incorrect API key provided.", { code: "invalid_api_key" });
    return client;
  };
}
