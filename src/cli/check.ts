import { maskedConfig } from "../config/mask.ts";
import { loadConfig } from "../config/load.ts";
import { configReference } from "../config/reference.ts";
import { parseFlags } from "./args.ts";
import { routingReport } from "./routing-report.ts";

export async function checkCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, { config: { type: "string" }, "insecure-no-auth": { type: "boolean" }, reference: { type: "boolean" } });
  if (flags.reference) {
    console.log(configReference());
    return 0;
  }
  const loaded = loadConfig({ env: process.env, cli: { configPath: flags.config, insecureNoAuth: flags["insecure-no-auth"] } });
  if (!loaded.ok) {
    for (const issue of loaded.issues) console.error(`invalid: ${issue}`);
    return 2;
  }
  console.log(routingReport(loaded.config));
  console.log(`\nEffective configuration${loaded.file ? ` (from ${loaded.file} and the environment)` : " (from the environment)"}, secrets masked:`);
  console.log(JSON.stringify(maskedConfig(loaded.config), null, 2));
  return 0;
}
