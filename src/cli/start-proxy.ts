/**
 * The composition root. Runtime state that must outlive a config reload (cooldowns, cached
 * Entra tokens, reachability) is made once; everything derived from the config (routing table,
 * forwarder, HTTP app) is rebuilt on reload and swapped in whole, so a request in flight
 * finishes on the config it started with and a new one sees only the new config.
 */
import { buildRoutingTable } from "../config/resolve.ts";
import type { Config } from "../config/schema.ts";
import { buildApp, type App } from "../http/app.ts";
import type { Logger } from "../lib/log.ts";
import { createForwarder } from "../proxy/forward.ts";
import type { RunningServer, RuntimeAdapter } from "../runtime/types.ts";
import { Credentials } from "../upstream/credentials.ts";
import { Health } from "../upstream/health.ts";
import { Reachability } from "../upstream/reachability.ts";
import { weightedSelector } from "../upstream/select.ts";

export interface ProxyServer {
  readonly server: RunningServer;
  /** Serve new requests with `config` from now on (listen address changes need a restart). */
  reload(config: Config): void;
}

interface SharedState {
  readonly health: Health;
  readonly credentials: Credentials;
  readonly reachability: Reachability;
}

export function sleepUnlessAborted(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}

function build(config: Config, state: SharedState, runtime: RuntimeAdapter, log: Logger): App {
  const routing = buildRoutingTable(config);
  const clock = () => Date.now();
  const forward = createForwarder({
    routing,
    config,
    fetch: runtime.upstreamFetch,
    ...state,
    selector: weightedSelector(),
    clock,
    sleep: sleepUnlessAborted,
    log,
  });
  return buildApp({ config, models: routing.listedModels, forward, log });
}

export async function startProxy(config: Config, runtime: RuntimeAdapter, log: Logger): Promise<ProxyServer> {
  const clock = () => Date.now();
  const state: SharedState = {
    health: new Health(clock),
    credentials: new Credentials(runtime.upstreamFetch, clock),
    reachability: new Reachability(clock),
  };
  let app = build(config, state, runtime, log);
  const server = await runtime.serve({ hostname: config.server.host, port: config.server.port, fetch: (request) => app.fetch(request) });
  return {
    server,
    reload(next) {
      app = build(next, state, runtime, log);
    },
  };
}
