/** The composition root: config → routing table → forwarder → app → listening server. */
import { buildRoutingTable } from "../config/resolve.ts";
import type { Config } from "../config/schema.ts";
import { buildApp } from "../http/app.ts";
import type { Logger } from "../lib/log.ts";
import { createForwarder } from "../proxy/forward.ts";
import type { RunningServer, RuntimeAdapter } from "../runtime/types.ts";

export async function startProxy(config: Config, runtime: RuntimeAdapter, log: Logger): Promise<RunningServer> {
  const routing = buildRoutingTable(config);
  const forward = createForwarder({ routing, fetch: globalThis.fetch, log, streamFixups: config.compat.stream_fixups });
  const app = buildApp({ config, models: routing.listedModels, forward, log });
  return runtime.serve({ hostname: config.server.host, port: config.server.port, fetch: app.fetch });
}
