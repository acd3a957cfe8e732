import { configFromEnv } from "../config/env.ts";
import { createLogger } from "../lib/log.ts";
import type { RuntimeAdapter } from "../runtime/types.ts";
import { VERSION } from "../version.ts";
import { parseFlags, portFlag } from "./args.ts";
import { untilStopSignal } from "./signals.ts";
import { startProxy } from "./start-proxy.ts";

export async function serveCommand(args: string[], runtime: RuntimeAdapter): Promise<number> {
  const flags = parseFlags(args, {
    port: { type: "string" },
    host: { type: "string" },
    "insecure-no-auth": { type: "boolean" },
  });
  const loaded = configFromEnv(
    process.env,
    { port: portFlag(flags.port), host: flags.host, insecureNoAuth: flags["insecure-no-auth"] },
    process.stdout.isTTY === true,
  );
  if (!loaded.ok) {
    for (const issue of loaded.issues) console.error(`azure-proxy: invalid configuration: ${issue}`);
    return 2;
  }
  const { config } = loaded;
  const log = createLogger(config.log.level, config.log.format, (line) => console.log(line));
  if (config.auth.insecure_no_auth) log.warn("serving WITHOUT client keys (--insecure-no-auth): anyone who reaches this port spends your Azure quota");
  const server = await startProxy(config, runtime, log);
  const upstream = config.upstreams[0]!;
  log.info("listening", {
    url: `http://${server.hostname}:${server.port}`,
    version: VERSION,
    runtime: `${runtime.name} ${runtime.version}`,
    upstream: upstream.endpoint,
    api_version: upstream.api_version,
  });
  const signal = await untilStopSignal();
  log.info("stopping", { signal });
  await server.stop();
  return 0;
}
