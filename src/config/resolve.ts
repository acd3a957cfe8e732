/**
 * Config → routing table, computed once per (re)load so a request does a map lookup: each
 * model's candidate deployments across upstreams, ordered by priority. Pure: no I/O, no clock.
 */
import { styleOf, type ApiStyle } from "./api-version.ts";
import type { Config, UpstreamConfig } from "./schema.ts";

export interface UpstreamTarget {
  readonly name: string;
  readonly endpoint: string;
  readonly apiVersion: string;
  readonly style: ApiStyle;
  readonly priority: number;
  readonly weight: number;
  /** The upstream's credential settings; credentials.ts turns them into a header. */
  readonly credential: Pick<UpstreamConfig, "api_key" | "entra">;
}

/** One deployment that can serve a model. */
export interface Route {
  readonly upstream: UpstreamTarget;
  readonly deployment: string;
  /** Chat calls to it must say `max_completion_tokens`, not `max_tokens`. */
  readonly maxCompletionTokens: boolean;
  /** Azure's own spillover target for this deployment (`x-ms-spillover-deployment`), if any. */
  readonly spillover: string | undefined;
}

export interface RoutingTable {
  /** Deployments that serve a model (or an Azure-shaped path's deployment), by priority; empty when none. */
  candidates(model: string, group?: string): readonly Route[];
  /** Upstreams a `Proxy-src` group may use; undefined when the group is unknown. */
  groupMembers(group: string): ReadonlySet<string> | undefined;
  /** Whether `Proxy-src` selects anything at all (no groups configured: the header is ignored). */
  readonly hasGroups: boolean;
  /** Models listed explicitly, for error messages and /v1/models. */
  readonly listedModels: readonly string[];
  isListed(model: string): boolean;
  readonly upstreams: readonly UpstreamTarget[];
  /** Where operations without a model go (a stored response, a file): the first by priority. */
  readonly defaultUpstream: UpstreamTarget;
}

export function buildRoutingTable(config: Config): RoutingTable {
  const needsMaxCompletionTokens = matcher(config.compat.max_completion_tokens_models);
  const spillovers = new Map(config.upstreams.map((u) => [u.name, u.spillover ?? {}]));
  const route = (upstream: UpstreamTarget, model: string, deployment: string): Route =>
    Object.freeze({
      upstream,
      deployment,
      maxCompletionTokens: needsMaxCompletionTokens(model) || needsMaxCompletionTokens(deployment),
      spillover: Object.hasOwn(spillovers.get(upstream.name)!, deployment) ? spillovers.get(upstream.name)![deployment] : undefined,
    });
  // stable sort: equal priorities keep the file's order
  const targets = config.upstreams.map(toTarget).sort((a, b) => a.priority - b.priority);
  const listed = new Map<string, Route[]>();
  for (const target of targets) {
    const upstream = config.upstreams.find((u) => u.name === target.name)!;
    for (const [model, deployment] of Object.entries(upstream.deployments)) {
      if (!listed.has(model)) listed.set(model, []);
      listed.get(model)!.push(route(target, model, deployment));
    }
  }
  const open = targets.filter((t) => config.upstreams.find((u) => u.name === t.name)!.any_model);
  const groups = new Map(Object.entries(config.groups).map(([name, members]) => [name, new Set(members)]));
  const listedModels = Object.freeze([...listed.keys()]);
  return {
    listedModels,
    isListed: (model) => listed.has(model),
    upstreams: targets,
    defaultUpstream: targets[0]!,
    hasGroups: groups.size > 0,
    groupMembers: (group) => groups.get(group),
    candidates(model, group) {
      const routes = listed.get(model) ?? open.map((t) => route(t, model, model));
      const members = group === undefined ? undefined : groups.get(group);
      return members ? routes.filter((r) => members.has(r.upstream.name)) : routes;
    },
  };
}

/** "o1*" matches by prefix, anything else exactly. */
function matcher(patterns: readonly string[]): (name: string) => boolean {
  const exact = new Set(patterns.filter((p) => !p.endsWith("*")));
  const prefixes = patterns.filter((p) => p.endsWith("*")).map((p) => p.slice(0, -1));
  return (name) => exact.has(name) || prefixes.some((p) => name.startsWith(p));
}

function toTarget(upstream: UpstreamConfig): UpstreamTarget {
  return Object.freeze({
    name: upstream.name,
    endpoint: upstream.endpoint,
    apiVersion: upstream.api_version,
    style: styleOf(upstream.api_version),
    priority: upstream.priority,
    weight: upstream.weight,
    credential: { api_key: upstream.api_key, entra: upstream.entra },
  });
}
