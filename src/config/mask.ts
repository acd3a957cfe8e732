/** The config as `check` prints it: every secret replaced, never partially shown. */
import type { Config } from "./schema.ts";

export function maskedConfig(config: Config): unknown {
  return {
    ...config,
    upstreams: config.upstreams.map((u) => ({
      ...u,
      ...(u.api_key !== undefined ? { api_key: "***" } : {}),
      ...(u.entra && "client_secret" in u.entra ? { entra: { ...u.entra, client_secret: "***" } } : {}),
    })),
    keys: config.keys.map((k) => ({ ...k, ...(k.key !== undefined ? { key: "***" } : {}) })),
    // a Redis URL may carry a password
    state: { ...config.state, ...(config.state.redis !== undefined ? { redis: "***" } : {}) },
  };
}
