/**
 * What authenticates the proxy to each upstream: its `api-key`, or an Entra ID bearer token.
 * Token sources live here, keyed by the credential's settings, so a config reload that leaves
 * an upstream's credential alone keeps its cached token.
 */
import type { UpstreamTarget } from "../config/resolve.ts";
import type { Clock } from "./health.ts";
import { cachedTokenSource, clientCredentialsFetcher, managedIdentityFetcher, type IdentityEndpoints, type TokenSource } from "./entra-token.ts";

export class Credentials {
  private readonly sources = new Map<string, TokenSource>();

  constructor(
    private readonly fetch: typeof globalThis.fetch,
    private readonly clock: Clock,
  ) {}

  /**
   * The header that authenticates a request to `upstream`: at once for an API key, a promise
   * for an Entra ID token (fetched or cached), so that steady API-key traffic awaits nothing.
   */
  header(upstream: UpstreamTarget, endpoints: IdentityEndpoints): readonly [string, string] | Promise<readonly [string, string]> {
    const { api_key, entra } = upstream.credential;
    if (api_key !== undefined) return ["api-key", api_key];
    return this.tokenHeader(upstream, endpoints, entra!);
  }

  private async tokenHeader(
    upstream: UpstreamTarget,
    endpoints: IdentityEndpoints,
    entra: NonNullable<UpstreamTarget["credential"]["entra"]>,
  ): Promise<readonly [string, string]> {
    const id = this.idOf(upstream, endpoints);
    let source = this.sources.get(id);
    if (!source) {
      const fetcher =
        "managed_identity" in entra! ? managedIdentityFetcher(entra, endpoints, this.fetch) : clientCredentialsFetcher(entra!, endpoints, this.fetch);
      source = cachedTokenSource(fetcher, this.clock);
      this.sources.set(id, source);
    }
    return ["authorization", `Bearer ${await source.token()}`];
  }

  /**
   * Azure refused the upstream's credential: drop its cached Entra ID token so the next call
   * fetches a fresh one (a revoked token must not fail calls for the rest of its lifetime).
   * False when there is nothing to refresh (an api-key, or no token yet).
   */
  dropToken(upstream: UpstreamTarget, endpoints: IdentityEndpoints): boolean {
    if (upstream.credential.api_key !== undefined) return false;
    const source = this.sources.get(this.idOf(upstream, endpoints));
    if (!source) return false;
    source.drop();
    return true;
  }

  private idOf(upstream: UpstreamTarget, endpoints: IdentityEndpoints): string {
    return JSON.stringify([upstream.credential.entra, endpoints]);
  }
}
