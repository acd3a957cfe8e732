import { createSimulator } from "../simulator/app.ts";
import { parseQuotaFlags } from "../simulator/quota.ts";
import type { RuntimeAdapter } from "../runtime/types.ts";
import { parseFlags, portFlag, UsageError } from "./args.ts";
import { untilStopSignal } from "./signals.ts";

export const SIMULATOR_DEFAULT_KEY = "simulator-key";

export async function simulateCommand(args: string[], runtime: RuntimeAdapter): Promise<number> {
  const flags = parseFlags(args, { port: { type: "string" }, host: { type: "string" }, key: { type: "string" }, quota: { type: "string", multiple: true } });
  const key = flags.key ?? process.env.SIMULATOR_KEY ?? SIMULATOR_DEFAULT_KEY;
  let quotas: ReturnType<typeof parseQuotaFlags>;
  try {
    quotas = parseQuotaFlags(flags.quota);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const simulator = createSimulator({ apiKey: key, quotas });
  const server = await runtime.serve({ hostname: flags.host ?? "127.0.0.1", port: portFlag(flags.port) ?? 9100, fetch: simulator.fetch });
  console.log(
    JSON.stringify({
      msg: "simulator listening",
      url: `http://${server.hostname}:${server.port}`,
      key_source: flags.key ? "--key" : process.env.SIMULATOR_KEY ? "SIMULATOR_KEY" : "default",
    }),
  );
  await untilStopSignal();
  await server.stop(true);
  return 0;
}
