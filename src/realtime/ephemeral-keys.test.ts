import { expect, test } from "bun:test";
import type { Config } from "../config/schema.ts";
import { ephemeralKeys } from "./ephemeral-keys.ts";

type Sealing = Pick<Config, "upstreams" | "keys" | "realtime">;
const config = (apiKey: string) =>
  ({ upstreams: [{ name: "east", endpoint: "https://e.example", api_key: apiKey }], keys: [{ name: "alice", key: "k" }], realtime: {} }) as unknown as Sealing;
/** Nothing secret in it: Entra managed identity, keys by digest only (a config anyone may read). */
const open = (secret?: string) =>
  ({
    upstreams: [{ name: "east", endpoint: "https://e.example", entra: { managed_identity: true } }],
    keys: [{ name: "alice", key_sha256: "ab".repeat(32) }],
    realtime: secret ? { ephemeral_key_secret: secret } : {},
  }) as unknown as Sealing;
const minted = { upstream: "east", keyName: "alice", expiresAt: 2000, value: "ek_abc.def" };

test("a sealed key opens to what minted it, in any process with the same config, until it expires", () => {
  const sealed = ephemeralKeys(config("a")).seal(minted);
  expect(sealed.startsWith("ek_")).toBe(true);
  expect(ephemeralKeys(config("a")).open(sealed, 1999)).toEqual(minted);
  expect(ephemeralKeys(config("a")).open(sealed, 2000)).toBeUndefined();
});

test("a forged upstream, key name or expiry, another config, or a foreign key does not open", () => {
  const keys = ephemeralKeys(config("a"));
  const sealed = keys.seal(minted);
  const parts = sealed.split(".");
  parts[1] = Buffer.from("west").toString("base64url");
  expect(keys.open(parts.join("."), 0)).toBeUndefined();
  expect(keys.open(sealed.replace(".2000.", ".9999."), 0)).toBeUndefined();
  expect(ephemeralKeys(config("b")).open(sealed, 0)).toBeUndefined();
  expect(keys.open("ek_68af0123456789", 0)).toBeUndefined();
});

test("a config without secrets seals with this start's random secret, so a key sealed from the config alone (a forgery) does not open", async () => {
  const keys = ephemeralKeys(open());
  const sealed = keys.seal(minted);
  expect(keys.open(sealed, 0)).toEqual(minted);
  // what anyone holding the config could compute: the derivation without the random part
  const { createHash, createHmac } = await import("node:crypto");
  const c = open();
  const secret = createHash("sha256")
    .update("azure-proxy ephemeral keys\0")
    .update(JSON.stringify(c.upstreams.map((u) => [u.name, u.endpoint, u.api_key ?? null, u.entra ?? null])))
    .update(JSON.stringify(c.keys.map((k) => [k.name, k.key ?? null, k.key_sha256 ?? null])))
    .digest();
  const head = sealed.split(".").slice(0, 4).join(".");
  const forged = `${head}.${createHmac("sha256", secret).update(`${head}.${minted.value}`).digest("base64url").slice(0, 32)}.${minted.value}`;
  expect(keys.open(forged, 0)).toBeUndefined();
});

test("realtime.ephemeral_key_secret seals alike in every process that has it, and differently without it", () => {
  const secret = "s".repeat(32);
  const sealed = ephemeralKeys(open(secret)).seal(minted);
  expect(ephemeralKeys(open(secret)).open(sealed, 0)).toEqual(minted);
  expect(ephemeralKeys(open("t".repeat(32))).open(sealed, 0)).toBeUndefined();
  expect(
    ephemeralKeys(config("a")).open(ephemeralKeys({ ...config("a"), realtime: { ephemeral_key_secret: secret } } as Sealing).seal(minted), 0),
  ).toBeUndefined();
});
