/**
 * Where and how to send one call: the upstream URL, method, headers and body. Nothing the
 * client sent can change the host: the URL is built from the configured endpoint, and the
 * deployment and ids are single URL-encoded path segments (docs/azure.md §6; openai-python
 * #3683). An operation the upstream's API style does not have is refused here with a message
 * that says what to change, instead of an opaque Azure 404.
 */
import type { Route, UpstreamTarget } from "../config/resolve.ts";
import { Failure } from "../lib/failure.ts";
import { boundaryOf } from "../lib/multipart-scanner.ts";
import { renameTopLevelKey, setTopLevelString, setTopLevelValue } from "../lib/json-top-level.ts";
import { VERSION } from "../version.ts";
import type { CallBody, ProxyCall } from "./call.ts";
import type { Operation } from "./operations.ts";

export interface UpstreamRequest {
  readonly url: string;
  readonly method: string;
  /** A plain record: fetch takes it in one step, where a Headers object costs a native call per set. */
  readonly headers: Record<string, string>;
  readonly body: string | ReadableStream<Uint8Array> | null;
  /** The proxy set `stream_options.include_usage` the client did not ask for; the relay takes the usage back out. */
  readonly usageInjected: boolean;
  /** A stream's answer will end with its usage (the Responses API always; chat and completions when asked and able). */
  readonly usageReported: boolean;
}

/** Where a call goes: a model's route, or the default upstream for model-less operations. */
export interface Target {
  readonly upstream: UpstreamTarget;
  readonly route: Route | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const USER_AGENT = `azure-proxy/${VERSION}`;
const encoder = new TextEncoder();

export function prepareUpstream(call: ProxyCall, { upstream, route }: Target, [authName, authValue]: readonly [string, string]): UpstreamRequest {
  const deployment = route?.deployment;
  // encodeURIComponent leaves "." and "..", which fetch would resolve as path steps.
  if (deployment === "." || deployment === "..") {
    throw new Failure("invalid_request", `'${deployment}' is not a valid model or deployment name.`, { param: "model", code: "invalid_value" });
  }
  const url = upstreamUrl(call, upstream, deployment);
  const headers: Record<string, string> = {
    [authName]: authValue,
    "user-agent": USER_AGENT,
    accept: call.stream ? "text/event-stream" : (call.accept ?? "application/json"),
  };
  // Azure logs this id with the request, so a support ticket can quote ours.
  if (UUID.test(call.requestId)) headers["x-ms-client-request-id"] = call.requestId;
  // Azure's own spillover (upstreams[].spillover): Azure moves overflow to that deployment itself
  if (route?.spillover) headers["x-ms-spillover-deployment"] = route.spillover;
  let body = upstreamBody(call, upstream, route, headers);
  const reportable = typeof body === "string" && canReportUsage(call, upstream);
  const usageInjected = reportable && call.streamOptions?.include_usage !== true;
  // the client's other stream options (include_obfuscation, ...) go along unchanged
  if (usageInjected) body = setTopLevelValue(body as string, "stream_options", { ...call.streamOptions, include_usage: true });
  return { url, method: call.method, headers, body, usageInjected, usageReported: reportable || call.operation.streamUsage === "always" };
}

/**
 * Streams carry token usage only when asked (`stream_options.include_usage`); the proxy asks
 * whatever the client said (absent, null, `include_usage: false`), so that no body can hide a
 * stream's tokens from the tpm limit, and the relay gives the client only what it asked for.
 * Not where Azure would refuse the parameter: dated versions before 2024-09-01 answer
 * "Unrecognized request argument supplied: stream_options" (docs/azure.md §1.5); there the
 * tokens are estimated (stream/usage-estimate.ts).
 */
function canReportUsage(call: ProxyCall, upstream: UpstreamTarget): boolean {
  if (!call.stream || call.body.kind !== "json") return false;
  if (call.operation.streamUsage !== "ask") return false;
  return upstream.style === "v1" || upstream.apiVersion >= "2024-09-01";
}

function upstreamUrl(call: ProxyCall, upstream: UpstreamTarget, deployment: string | undefined): string {
  const op = call.operation;
  const path = op.body === "passthrough" ? `/${call.params["*"]}` : fillPath(op.suffix, call.params);
  if (op.body === "passthrough") {
    // v1 resources exist on every resource whatever style the rest uses; keep the client's
    // query (pagination) but never its api-version or a key.
    const query = new URLSearchParams(call.query);
    query.delete("api-version");
    // a key in the query (Realtime clients put theirs there) is the client's, never Azure's to see
    for (const name of [...query.keys()]) if (name.toLowerCase() === "api-key") query.delete(name);
    if (upstream.apiVersion === "preview") query.set("api-version", "preview");
    const q = query.toString();
    return `${upstream.endpoint}/openai/v1${path}${q ? `?${q}` : ""}`;
  }
  if (upstream.style === "dated") {
    if (
      op.dated === "none" ||
      (op.dated === "preview" && !upstream.apiVersion.endsWith("-preview")) ||
      (op.datedSince && upstream.apiVersion < op.datedSince)
    ) {
      throw unavailable(op, upstream, `a dated API version of at least ${op.datedSince ?? "a …-preview release (2025-04-01-preview)"}, or the v1 API`);
    }
    const scope = op.deploymentScoped ? `/deployments/${encodeURIComponent(deployment!)}` : "";
    return `${upstream.endpoint}/openai${scope}${path}?api-version=${encodeURIComponent(upstream.apiVersion)}`;
  }
  if (op.v1 === "none") throw unavailable(op, upstream, "a dated API version such as 2024-10-21");
  // Operations still in preview on the v1 API need `api-version=preview` (docs/azure.md §1.4).
  const preview = op.v1 === "preview" || upstream.apiVersion === "preview";
  return `${upstream.endpoint}/openai/v1${path}${preview ? "?api-version=preview" : ""}`;
}

export function unavailable(op: Operation, upstream: UpstreamTarget, needs: string): Failure {
  return new Failure(
    "not_found",
    `The ${op.id} operation is not available with upstream '${upstream.name}', which uses Azure API version '${upstream.apiVersion}'. It needs ${needs}: set AZURE_OPENAI_API_VERSION accordingly.`,
    { code: "operation_not_available" },
  );
}

function fillPath(suffix: string, params: Readonly<Record<string, string>>): string {
  return suffix.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(params[name] ?? ""));
}

function upstreamBody(call: ProxyCall, upstream: UpstreamTarget, route: Route | null, headers: Record<string, string>): UpstreamRequest["body"] {
  const body: CallBody = call.body;
  // The v1 API reads the deployment from the body's model (docs/azure.md §1.4); the dated
  // API reads it from the path, so there the body goes as sent.
  const rewriteModel = route !== null && upstream.style === "v1" && call.bodyModel !== route.deployment;
  switch (body.kind) {
    case "none":
      return null;
    case "json": {
      headers["content-type"] = "application/json";
      let text = rewriteModel ? setTopLevelString(body.text, "model", route.deployment) : body.text;
      if (route?.maxCompletionTokens && call.operation.renamesMaxTokens) text = renameTopLevelKey(text, "max_tokens", "max_completion_tokens");
      return text;
    }
    case "multipart": {
      headers["content-type"] = body.contentType;
      const size = body.spool.byteLength;
      if (!rewriteModel) {
        headers["content-length"] = String(size);
        return body.spool.range(0, size);
      }
      // a form without `model` (Azure's deployment-path shape) gets a part for it after its
      // last part, just before the closing delimiter
      const [start, end] = body.modelRange ?? [body.partsEnd, body.partsEnd];
      const value = encoder.encode(body.modelRange ? route.deployment : modelPart(boundaryOf(body.contentType)!, route.deployment));
      headers["content-length"] = String(size - (end - start) + value.byteLength);
      return concatStreams([body.spool.range(0, start), singleChunk(value), body.spool.range(end, size)]);
    }
    case "raw":
      if (body.contentType) headers["content-type"] = body.contentType;
      headers["content-length"] = String(body.spool.byteLength);
      return body.spool.range(0, body.spool.byteLength);
  }
}

/** A form part holding `model`, placed where the previous part's content ends. */
function modelPart(boundary: string, deployment: string): string {
  return `\r\n--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\n${deployment}`;
}

function singleChunk(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      controller.enqueue(bytes);
      controller.close();
    },
  });
}

function concatStreams(streams: ReadableStream<Uint8Array>[]): ReadableStream<Uint8Array> {
  let index = 0;
  let reader = streams[0]!.getReader();
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        for (;;) {
          const { done, value } = await reader.read();
          if (!done) return controller.enqueue(value);
          if (++index >= streams.length) return controller.close();
          reader = streams[index]!.getReader();
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}
