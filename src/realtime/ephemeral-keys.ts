/**
 * Ephemeral keys the proxy minted (POST /v1/realtime/client_secrets): Azure's `value` is only
 * valid at the resource that minted it, so a WebRTC offer made with it must go there and nowhere
 * else. What the proxy hands out is Azure's value with that knowledge sealed around it:
 * `ek_azp.<upstream>.<key name>.<expires_at>.<mac>.<Azure's value>`, the MAC an HMAC-SHA256 over
 * the rest. Sealed, not stored: every worker process (and a restarted proxy with the same
 * config) recognises it without shared state, and it cannot be pointed at another upstream or
 * key. It keeps the `ek_` prefix the openai SDKs look for before they allow a browser to use it.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { Config } from "../config/schema.ts";

const PREFIX = "ek_azp.";

export interface MintedKey {
  readonly upstream: string;
  readonly keyName: string;
  /** Unix seconds, as Azure's `expires_at`. */
  readonly expiresAt: number;
  /** Azure's own ephemeral key. */
  readonly value: string;
}

export interface EphemeralKeys {
  seal(minted: MintedKey): string;
  /** The minted key behind `presented`; undefined when it is none of ours, forged or expired. */
  open(presented: string, nowSeconds: number): MintedKey | undefined;
}

/**
 * What `ephemeralKeys` seals with when the config holds no secret of its own: random, made once
 * per start (reloads keep it), and handed by the primary to its workers in their config.
 */
export const RANDOM_SECRET = randomBytes(32).toString("base64url");

/** Whether the config holds a secret no one without it can know, to derive the seal's key from. */
export function holdsSecret(config: Pick<Config, "upstreams" | "keys">): boolean {
  return (
    config.upstreams.some((u) => u.api_key !== undefined || (u.entra !== undefined && "client_secret" in u.entra)) ||
    config.keys.some((k) => k.key !== undefined)
  );
}

/**
 * The secret: `realtime.ephemeral_key_secret`; else one derived from the config's own secrets
 * (the same in every worker and instance, and never sent anywhere); else, when the config holds
 * none (Entra managed identity and key_sha256 keys only: a config anyone may read), a random one,
 * since a secret derived from public values would let anyone seal a key.
 */
export function ephemeralKeys(config: Pick<Config, "upstreams" | "keys" | "realtime">): EphemeralKeys {
  const configured = config.realtime.ephemeral_key_secret;
  const hash = createHash("sha256").update("azure-proxy ephemeral keys\0");
  if (configured !== undefined) hash.update(configured);
  else if (!holdsSecret(config)) hash.update(RANDOM_SECRET);
  const secret = hash
    .update(JSON.stringify(config.upstreams.map((u) => [u.name, u.endpoint, u.api_key ?? null, u.entra ?? null])))
    .update(JSON.stringify(config.keys.map((k) => [k.name, k.key ?? null, k.key_sha256 ?? null])))
    .digest();
  const mac = (text: string) => createHmac("sha256", secret).update(text).digest("base64url").slice(0, 32);
  return {
    seal({ upstream, keyName, expiresAt, value }) {
      const head = `${PREFIX}${b64(upstream)}.${b64(keyName)}.${expiresAt}`;
      return `${head}.${mac(`${head}.${value}`)}.${value}`;
    },
    open(presented, nowSeconds) {
      if (!presented.startsWith(PREFIX)) return undefined;
      const parts = presented.slice(PREFIX.length).split(".");
      if (parts.length < 5) return undefined;
      const [upstream, keyName, expires, tag] = parts as [string, string, string, string];
      const value = parts.slice(4).join(".");
      const head = `${PREFIX}${upstream}.${keyName}.${expires}`;
      const expected = Buffer.from(mac(`${head}.${value}`));
      const given = Buffer.from(tag);
      if (given.byteLength !== expected.byteLength || !timingSafeEqual(given, expected)) return undefined;
      const expiresAt = Number(expires);
      if (!Number.isFinite(expiresAt) || expiresAt <= nowSeconds) return undefined;
      return { upstream: unb64(upstream), keyName: unb64(keyName), expiresAt, value };
    },
  };
}

const b64 = (text: string) => Buffer.from(text).toString("base64url");
const unb64 = (text: string) => Buffer.from(text, "base64url").toString();
