/**
 * The routing table as `check` prints it: each model → its upstreams in order, with weights and
 * Azure spillover targets; then how headroom steers (routing.headroom, routing.ptu_spill_at).
 */
import { buildRoutingTable } from "../config/resolve.ts";
import type { Config } from "../config/schema.ts";

export function routingReport(config: Config): string {
  const table = buildRoutingTable(config);
  const lines = ["Routing (model → upstream/deployment, tried by priority; weight shares traffic within a priority):"];
  const describe = (model: string) =>
    table
      .candidates(model)
      .map(
        (r) =>
          `${r.upstream.name}/${r.deployment} (priority ${r.upstream.priority}, weight ${r.upstream.weight}${r.maxCompletionTokens ? ", max_completion_tokens" : ""}${r.spillover ? `, spillover → ${r.spillover}` : ""})`,
      )
      .join("  →  ");
  const width = Math.max(0, ...table.listedModels.map((m) => m.length));
  for (const model of table.listedModels) lines.push(`  ${model.padEnd(width)}  ${describe(model)}`);
  const open = config.upstreams.filter((u) => u.any_model).map((u) => u.name);
  if (open.length > 0) lines.push(`  any other model → the deployment of the same name on ${open.join(", ")}`);
  for (const [group, members] of Object.entries(config.groups)) lines.push(`Group (Proxy-src: ${group}) → ${members.join(", ")}`);
  for (const u of config.upstreams) {
    const auth =
      u.api_key !== undefined ? "api-key" : u.entra && "managed_identity" in u.entra ? "Entra ID (managed identity)" : "Entra ID (client credentials)";
    const spill = Object.entries(u.spillover ?? {}).map(([from, to]) => `${from} → ${to}`);
    lines.push(`Upstream ${u.name}: ${u.endpoint}, API ${u.api_version}, ${auth}${spill.length ? `, Azure spillover ${spill.join(", ")}` : ""}`);
  }
  const { headroom, ptu_spill_at } = config.routing;
  lines.push(
    headroom
      ? `Headroom: on (a deployment with too few remaining requests or tokens, or provisioned at >= ${ptu_spill_at}% utilization, is tried after the others)`
      : "Headroom: off (Azure's x-ratelimit-remaining-* headers do not change the order; only cooldowns do)",
  );
  return lines.join("\n");
}
