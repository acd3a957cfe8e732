/** The config as `check` prints it: every secret replaced, never partially shown. */
import type { Config } from "./schema.ts";

export function maskedConfig(config: Config): unknown {
  return {
    ...config,
    upstreams: config.upstreams.map((u) => ({ ...u, api_key: "***" })),
    keys: config.keys.map((k) => ({ ...k, key: "***" })),
  };
}
