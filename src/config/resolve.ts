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
  /** Chat calls to it must say `max_completion_tokens`, not `max_tokens`. */
  readonly maxCompletionTokens: boolean;
}

export interface RoutingTable {
  /** Where a model (or an Azure-shaped path's deployment name) goes, or undefined. */
  resolve(model: string): Route | undefined;
  /** Models listed explicitly, for error messages and /v1/models. */
  readonly listedModels: readonly string[];
  /** Where operations without a model go (a stored response, a file): the first upstream. */
  readonly defaultUpstream: UpstreamTarget;
}

export function buildRoutingTable(config: Config): RoutingTable {
  const needsMaxCompletionTokens = matcher(config.compat.max_completion_tokens_models);
  const route = (upstream: UpstreamTarget, model: string, deployment: string): Route =>
    Object.freeze({ upstream, deployment, maxCompletionTokens: needsMaxCompletionTokens(model) || needsMaxCompletionTokens(deployment) });
  const targets = config.upstreams.map(toTarget);
  const listed = new Map<string, Route>();
  let fallback: UpstreamTarget | undefined;
  config.upstreams.forEach((upstream, i) => {
    for (const [model, deployment] of Object.entries(upstream.deployments)) {
      if (!listed.has(model)) listed.set(model, route(targets[i]!, model, deployment));
    }
    if (upstream.any_model && fallback === undefined) fallback = targets[i];
  });
  const listedModels = Object.freeze([...listed.keys()]);
  return {
    listedModels,
    defaultUpstream: targets[0]!,
    resolve(model) {
      return listed.get(model) ?? (fallback && route(fallback, model, model));
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
    apiKey: upstream.api_key,
    apiVersion: upstream.api_version,
    style: styleOf(upstream.api_version),
  });
}
