/**
 * Where and how a Realtime session goes upstream. The upstream's api_version decides the path
 * (Azure's Realtime docs): v1 → the GA path `/openai/v1/realtime?model=DEP`, which refuses any
 * dated api-version; a date → the preview path `/openai/realtime?api-version=V&deployment=DEP`.
 * The credential is a header, never the query (a query lands in Azure's and proxies' logs).
 * `OpenAI-Beta: realtime=v1` selects the preview protocol, so it goes to the preview path only.
 */
import type { Route } from "../config/resolve.ts";
import { VERSION } from "../version.ts";

const USER_AGENT = `azure-proxy/${VERSION}`;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function realtimeUrl({ upstream, deployment }: Route): URL {
  const url = new URL(upstream.endpoint);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  if (upstream.style === "dated") {
    url.pathname = "/openai/realtime";
    url.search = `?api-version=${encodeURIComponent(upstream.apiVersion)}&deployment=${encodeURIComponent(deployment)}`;
  } else {
    url.pathname = "/openai/v1/realtime";
    url.search = `?model=${encodeURIComponent(deployment)}`;
  }
  return url;
}

export function realtimeHeaders(
  route: Route,
  [authName, authValue]: readonly [string, string],
  beta: string | null,
  requestId: string,
): Record<string, string> {
  const headers: Record<string, string> = { [authName]: authValue, "user-agent": USER_AGENT };
  if (beta && route.upstream.style === "dated") headers["openai-beta"] = beta;
  if (UUID.test(requestId)) headers["x-ms-client-request-id"] = requestId;
  return headers;
}
