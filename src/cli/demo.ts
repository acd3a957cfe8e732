/**
 * The quick start: the built-in Azure simulator on a private port, and the proxy on :8000 in
 * front of it, configured exactly as a user would configure it for a real Azure resource.
 */
import { loadConfig } from "../config/load.ts";
import { createLogger } from "../lib/log.ts";
import type { RuntimeAdapter } from "../runtime/types.ts";
import { createSimulator } from "../simulator/app.ts";
import { parseQuotaFlags } from "../simulator/quota.ts";
import { parseFlags, portFlag, UsageError } from "./args.ts";
import { untilStopSignal } from "./signals.ts";
import type { Config } from "../config/schema.ts";
import { startProxy } from "../app/start-proxy.ts";

export async function demoCommand(args: string[], runtime: RuntimeAdapter): Promise<number> {
  const flags = parseFlags(args, { port: { type: "string" }, quota: { type: "string", multiple: true } });
  // a small quota shows headroom routing and Azure's 429s (simulate.ts has the same flag)
  let quotas: ReturnType<typeof parseQuotaFlags>;
  try {
    quotas = parseQuotaFlags(flags.quota);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const preparation = runtime.prepareForServing();
  if (preparation) console.error(`azure-proxy demo: ${preparation}`);
  const simulatorKey = crypto.randomUUID();
  const simulator = await runtime.serve({ hostname: "127.0.0.1", port: 0, fetch: createSimulator({ apiKey: simulatorKey, quotas }).fetch });
  const clientKey = process.env.AUTH_KEY || `demo-${crypto.randomUUID().slice(0, 8)}`;
  const loaded = loadConfig({
    env: {
      ...process.env,
      AZURE_ENDPOINT: undefined,
      AZURE_OPENAI_ENDPOINT: `http://127.0.0.1:${simulator.port}`,
      AZURE_OPENAI_API_KEY: simulatorKey,
      AZURE_OPENAI_API_VERSION: process.env.AZURE_OPENAI_API_VERSION ?? "2024-10-21",
      AZURE_OPENAI_MODEL_MAP: "gpt-3.5-turbo=gpt-35-turbo",
      AUTH_KEY: clientKey,
      HOST: process.env.HOST ?? "127.0.0.1",
      LOG_FORMAT: process.env.LOG_FORMAT ?? "pretty",
      // the demo runs on its own simulator; a config file in the environment is not for it
      AZURE_PROXY_CONFIG: undefined,
    },
    cli: { port: portFlag(flags.port) },
  });
  if (!loaded.ok) {
    for (const issue of loaded.issues) console.error(`azure-proxy demo: ${issue}`);
    await simulator.stop(true);
    return 2;
  }
  // an admin key of its own, so the demo's status page (GET /status) can be opened at once
  const adminKey = `demo-admin-${crypto.randomUUID().slice(0, 8)}`;
  const config: Config = { ...loaded.config, keys: [...loaded.config.keys, { name: "demo-admin", key: adminKey, admin: true }] };
  const log = createLogger(config.log.level, config.log.format, (line) => console.log(line));
  const proxy = await startProxy(config, runtime, log);
  const base = `http://127.0.0.1:${proxy.server.port}`;
  log.info("listening", { url: base, upstream: "built-in simulator" });
  console.log(`
azure-proxy demo: the proxy listens on ${base}, in front of the built-in Azure simulator
(deployments gpt-4o, gpt-4o-mini, gpt-4.1, gpt-35-turbo, gpt-realtime; gpt-3.5-turbo is mapped to gpt-35-turbo).
Client key: ${clientKey}${process.env.AUTH_KEY ? " (from AUTH_KEY)" : ""}

Try a streamed answer:
  curl -N ${base}/v1/chat/completions \\
    -H "Authorization: Bearer ${clientKey}" -H "Content-Type: application/json" \\
    -d '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Hello!"}]}'

Try a Realtime session (WebSocket; deployments gpt-realtime, gpt-4o-realtime-preview), e.g. with websocat:
  websocat -H "Authorization: Bearer ${clientKey}" "ws://127.0.0.1:${proxy.server.port}/v1/realtime?model=gpt-realtime"
  and send: {"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"Hello!"}]}}
  then:     {"type":"response.create"}
(The openai SDK's Realtime classes dial wss:// only: give the proxy a certificate, see the README's Realtime section.)

The status page: ${base}/status (sign in with the admin key ${adminKey}).

Ask the simulator for a fault by putting e.g. [sim status=429 retry_after=3] in a message.
Stop with Ctrl-C.
`);
  await untilStopSignal();
  await proxy.drain(0);
  await simulator.stop(true);
  return 0;
}
