/**
 * Microsoft Entra ID access tokens for Azure OpenAI, cached and refreshed before they expire.
 * One token request at a time per credential however many calls need it (single-flight); a
 * failed refresh falls back to the current token while it is still valid. Two sources:
 * - client credentials: POST {authority}/{tenant}/oauth2/v2.0/token (a service principal);
 * - managed identity: GET {imds}/metadata/identity/oauth2/token (Azure VMs, App Service, AKS).
 * Base URLs come from config so tests run local fakes; scope per docs/azure.md §2.
 */
import type { Clock } from "./health.ts";

export interface TokenSource {
  /** A valid access token, fetched or cached. */
  token(): Promise<string>;
  /** Forget the cached token (Azure refused it: revoked, or its role was removed); the next call fetches one. */
  drop(): void;
}

interface Token {
  value: string;
  expiresAt: number;
  /** Refresh from here on (before expiry: a request in flight must not carry a dead token). */
  refreshAt: number;
}

export type TokenFetcher = () => Promise<{ accessToken: string; expiresInSeconds: number }>;

export function cachedTokenSource(fetchToken: TokenFetcher, clock: Clock): TokenSource {
  let current: Token | null = null;
  let pending: Promise<Token> | null = null;
  const refresh = () => {
    pending ??= fetchToken()
      .then(({ accessToken, expiresInSeconds }) => {
        const now = clock();
        const lifetime = expiresInSeconds * 1000;
        // refresh with 5 minutes (or half the lifetime, for short-lived tokens) to spare
        current = { value: accessToken, expiresAt: now + lifetime, refreshAt: now + lifetime - Math.min(300_000, lifetime / 2) };
        return current;
      })
      .finally(() => {
        pending = null;
      });
    return pending;
  };
  return {
    drop() {
      current = null;
    },
    async token() {
      const now = clock();
      if (current && now < current.refreshAt) return current.value;
      if (current && now < current.expiresAt) {
        // still valid: refresh in the background, answer now
        refresh().catch(() => {});
        return current.value;
      }
      return (await refresh()).value;
    },
  };
}

export interface IdentityEndpoints {
  authority_host: string;
  imds_endpoint: string;
  scope: string;
}

export function clientCredentialsFetcher(
  { tenant_id, client_id, client_secret }: { tenant_id: string; client_id: string; client_secret: string },
  endpoints: IdentityEndpoints,
  fetch: typeof globalThis.fetch,
): TokenFetcher {
  const url = `${endpoints.authority_host.replace(/\/+$/, "")}/${encodeURIComponent(tenant_id)}/oauth2/v2.0/token`;
  return async () => {
    const from = "the identity platform";
    const response = await tokenRequest(from, () =>
      fetch(url, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({ grant_type: "client_credentials", client_id, client_secret, scope: endpoints.scope }),
        signal: AbortSignal.timeout(30_000),
      }),
    );
    return parseTokenResponse(response, from);
  };
}

export function managedIdentityFetcher({ client_id }: { client_id?: string }, endpoints: IdentityEndpoints, fetch: typeof globalThis.fetch): TokenFetcher {
  const query = new URLSearchParams({ "api-version": "2018-02-01", resource: endpoints.scope.replace(/\/\.default$/, "") });
  if (client_id) query.set("client_id", client_id);
  const url = `${endpoints.imds_endpoint.replace(/\/+$/, "")}/metadata/identity/oauth2/token?${query}`;
  return async () => {
    const from = "the instance metadata service";
    const response = await tokenRequest(from, () => fetch(url, { headers: { Metadata: "true" }, signal: AbortSignal.timeout(30_000) }));
    return parseTokenResponse(response, from);
  };
}

/**
 * A token the identity platform would not give. `message` is for the client: who refused, the
 * HTTP status, the OAuth error and the AADSTS number. `detail` is for the log only: Azure's own
 * text, which names the tenant and the application (AADSTS700016 "Application with identifier
 * '…' was not found in the directory '…'", AADSTS90002 "Tenant '…' not found"), and a network
 * error's text, which may hold the token URL with the tenant in its path.
 */
export class TokenError extends Error {
  constructor(
    message: string,
    readonly detail: string,
  ) {
    super(message);
    this.name = "TokenError";
  }
}

async function parseTokenResponse(response: Response, from: string): Promise<{ accessToken: string; expiresInSeconds: number }> {
  const body = (await response.json().catch(() => ({}))) as { access_token?: string; expires_in?: number | string; error?: string; error_description?: string };
  if (!response.ok || typeof body.access_token !== "string") {
    // error_description never carries the secret, but it does carry tenant and app ids
    const description = typeof body.error_description === "string" ? body.error_description : "";
    const aadsts = /\bAADSTS\d+\b/.exec(description)?.[0];
    const facts = [`HTTP ${response.status}`, typeof body.error === "string" ? body.error.slice(0, 64) : undefined, aadsts].filter(Boolean).join(", ");
    throw new TokenError(`${from} refused a token (${facts})`, description.split(/\r?\n/)[0]!.slice(0, 1000));
  }
  return { accessToken: body.access_token, expiresInSeconds: Number(body.expires_in ?? 3600) };
}

/** The token request itself failed (network, timeout): the client learns only whom we could not reach. */
async function tokenRequest(from: string, send: () => Promise<Response>): Promise<Response> {
  try {
    return await send();
  } catch (error) {
    const timedOut = (error as { name?: string })?.name === "TimeoutError";
    throw new TokenError(`${from} ${timedOut ? "did not answer a token request in time" : "could not be reached for a token"}`, String(error));
  }
}
