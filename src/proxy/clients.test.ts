import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { clientLookup } from "./clients.ts";

const sha256 = (key: string) => createHash("sha256").update(key).digest("hex");

test("clientLookup finds plain and key_sha256 keys, again and again, and nothing else", () => {
  const lookup = clientLookup([
    { name: "plain", key: "sk-plain-key" },
    { name: "hashed", key_sha256: sha256("sk-hashed-key") },
  ] as never);
  for (let round = 0; round < 3; round++) {
    expect(lookup("sk-plain-key")?.name).toBe("plain");
    expect(lookup("sk-hashed-key")?.name).toBe("hashed");
    expect(lookup("sk-plain-ke")).toBeUndefined();
    expect(lookup("sk-plain-key ")).toBeUndefined();
    expect(lookup("")).toBeUndefined();
  }
  // the same Client object each time: what the limits and budgets are keyed by
  expect(lookup("sk-plain-key")).toBe(lookup("sk-plain-key")!);
  expect(lookup("sk-hashed-key")).toBe(lookup("sk-hashed-key")!);
});
