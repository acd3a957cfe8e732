/**
 * Where and how to send one call: the upstream URL, the headers, the body. Nothing the client
 * sent can change the host: the URL is built from the configured endpoint, and the deployment
 * is one URL-encoded path segment (azure-contract.md §6, openai-python #3683).
 */
import type { Route } from "../config/resolve.ts";
import { Failure } from "../lib/failure.ts";
import { setTopLevelString } from "../lib/json-top-level.ts";
import { VERSION } from "../version.ts";
import type { ProxyCall } from "./call.ts";

export interface UpstreamRequest {
  readonly url: string;
  readonly headers: Headers;
  readonly body: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const USER_AGENT = `azure-proxy/${VERSION}`;

export function prepareUpstream(call: ProxyCall, route: Route): UpstreamRequest {
  const { upstream, deployment } = route;
  // encodeURIComponent leaves "." and "..", which fetch would resolve as path steps.
  if (deployment === "." || deployment === "..") {
    throw new Failure("invalid_request", `'${deployment}' is not a valid model or deployment name.`, { param: "model", code: "invalid_value" });
  }
  const headers = new Headers({
    "content-type": "application/json",
    accept: call.stream ? "text/event-stream" : "application/json",
    "api-key": upstream.apiKey,
    "user-agent": USER_AGENT,
  });
  // Azure logs this id with the request, so a support ticket can quote ours.
  if (UUID.test(call.requestId)) headers.set("x-ms-client-request-id", call.requestId);

  if (upstream.style === "dated") {
    const scope = call.operation.deploymentScoped ? `/deployments/${encodeURIComponent(deployment)}` : "";
    return {
      url: `${upstream.endpoint}/openai${scope}${call.operation.suffix}?api-version=${encodeURIComponent(upstream.apiVersion)}`,
      headers,
      // The dated API takes the deployment from the path and ignores the body's model.
      body: call.bodyText,
    };
  }
  const query = upstream.apiVersion === "preview" ? "?api-version=preview" : "";
  return {
    url: `${upstream.endpoint}/openai/v1${call.operation.suffix}${query}`,
    headers,
    // The v1 API reads the deployment from the body's model (azure-contract.md §1.4).
    body: call.bodyModel === deployment ? call.bodyText : setTopLevelString(call.bodyText, "model", deployment),
  };
}
