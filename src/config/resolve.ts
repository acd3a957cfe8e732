/**
 * Config → routing table, computed once at start-up so a request does a single map lookup.
 * Pure: no I/O, no clock.
 */
import { styleOf, type ApiStyle } from "./api-version.ts";
import type { Config, UpstreamConfig } from "./schema.ts";

export interface UpstreamTarget {
  readonly name: string;
  readonly endpoint: string;
  readonly apiKey: string;
  readonly apiVersion: string;
  readonly style: ApiStyle;
}

export interface Route {
  readonly upstream: UpstreamTarget;
  readonly deployment: string;
}

export interface RoutingTable {
  /** Where a model (or an Azure-shaped path's deployment name) goes, or undefined. */
  resolve(model: string): Route | undefined;
  /** Models listed explicitly, for error messages and /v1/models. */
  readonly listedModels: readonly string[];
}

export function buildRoutingTable(config: Config): RoutingTable {
  const listed = new Map<string, Route>();
  let fallback: UpstreamTarget | undefined;
  for (const upstream of config.upstreams) {
    const target = toTarget(upstream);
    for (const [model, deployment] of Object.entries(upstream.deployments)) {
      if (!listed.has(model)) listed.set(model, Object.freeze({ upstream: target, deployment }));
    }
    if (upstream.any_model && fallback === undefined) fallback = target;
  }
  const listedModels = Object.freeze([...listed.keys()]);
  return {
    listedModels,
    resolve(model) {
      return listed.get(model) ?? (fallback && { upstream: fallback, deployment: model });
    },
  };
}

function toTarget(upstream: UpstreamConfig): UpstreamTarget {
  return Object.freeze({
    name: upstream.name,
    endpoint: upstream.endpoint,
    apiKey: upstream.api_key,
    apiVersion: upstream.api_version,
    style: styleOf(upstream.api_version),
  });
}
