import { expect, test } from "bun:test";
import { ConfigSchema, type Config } from "../config/schema.ts";
import { Value } from "@sinclair/typebox/value";
import { withSpoolShare } from "./spool-share.ts";

const configWith = (workers: number, max_spool_bytes: number, max_body_bytes = 27_262_976): Config =>
  Value.Default(ConfigSchema, { upstreams: [], server: { workers }, limits: { max_spool_bytes, max_body_bytes } }) as Config;

test("each worker gets an equal share of limits.max_spool_bytes, never less than one largest body", () => {
  expect(withSpoolShare(configWith(4, 1_073_741_824)).limits.max_spool_bytes).toBe(268_435_456);
  expect(withSpoolShare(configWith(1, 1_073_741_824)).limits.max_spool_bytes).toBe(1_073_741_824);
  expect(withSpoolShare(configWith(64, 1_073_741_824)).limits.max_spool_bytes).toBe(27_262_976);
  // a bound below one body stays the bound
  expect(withSpoolShare(configWith(2, 10_000, 20_000)).limits.max_spool_bytes).toBe(10_000);
  expect(withSpoolShare(configWith(4, 1_073_741_824)).limits.max_body_bytes).toBe(27_262_976);
});
