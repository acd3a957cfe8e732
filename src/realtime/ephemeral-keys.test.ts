import { expect, test } from "bun:test";
import type { Config } from "../config/schema.ts";
import { ephemeralKeys } from "./ephemeral-keys.ts";

const config = (apiKey: string) => ({ upstreams: [{ name: "east", endpoint: "https://e.example", api_key: apiKey }], keys: [{ name: "alice", key: "k" }] }) as unknown as Pick<Config, "upstreams" | "keys">;
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
