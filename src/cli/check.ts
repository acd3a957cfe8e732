import { configFromEnv } from "../config/env.ts";
import { maskedConfig } from "../config/mask.ts";
import { parseFlags } from "./args.ts";

export async function checkCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, { "insecure-no-auth": { type: "boolean" } });
  const loaded = configFromEnv(process.env, { insecureNoAuth: flags["insecure-no-auth"] });
  if (!loaded.ok) {
    for (const issue of loaded.issues) console.error(`invalid: ${issue}`);
    return 2;
  }
  const { config } = loaded;
  console.log(JSON.stringify(maskedConfig(config), null, 2));
  console.log("\nRouting (model → upstream / deployment):");
  for (const upstream of config.upstreams) {
    for (const [model, deployment] of Object.entries(upstream.deployments)) console.log(`  ${model} → ${upstream.name} / ${deployment}`);
    if (upstream.any_model) console.log(`  any other model → ${upstream.name} / deployment of the same name`);
  }
  return 0;
}
