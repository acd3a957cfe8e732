/** The routing table as `check` prints it: each model → its upstreams in order, with weights. */
import { buildRoutingTable } from "../config/resolve.ts";
import type { Config } from "../config/schema.ts";

export function routingReport(config: Config): string {
  const table = buildRoutingTable(config);
  const lines = ["Routing (model → upstream/deployment, tried by priority; weight shares traffic within a priority):"];
  const describe = (model: string) =>
    table
      .candidates(model)
      .map((r) => `${r.upstream.name}/${r.deployment} (priority ${r.upstream.priority}, weight ${r.upstream.weight}${r.maxCompletionTokens ? ", max_completion_tokens" : ""})`)
      .join("  →  ");
  const width = Math.max(0, ...table.listedModels.map((m) => m.length));
  for (const model of table.listedModels) lines.push(`  ${model.padEnd(width)}  ${describe(model)}`);
  const open = config.upstreams.filter((u) => u.any_model).map((u) => u.name);
  if (open.length > 0) lines.push(`  any other model → the deployment of the same name on ${open.join(", ")}`);
  for (const [group, members] of Object.entries(config.groups)) lines.push(`Group (Proxy-src: ${group}) → ${members.join(", ")}`);
  for (const u of config.upstreams) {
    const auth = u.api_key !== undefined ? "api-key" : u.entra && "managed_identity" in u.entra ? "Entra ID (managed identity)" : "Entra ID (client credentials)";
    lines.push(`Upstream ${u.name}: ${u.endpoint}, API ${u.api_version}, ${auth}`);
  }
  return lines.join("\n");
}
