/**
 * The Azure OpenAI simulator: a web-standard fetch handler that answers like Azure does
 * (docs/azure.md): dated and v1 paths, api-version rules, `api-key` auth,
 * DeploymentNotFound, OperationNotSupported, Azure's headers and error bodies, and faults on
 * request (faults.ts) for every operation. New operations are rows in OPERATIONS.
 */
import { AZURE_BODIES } from "./azure-errors.ts";
import { DEFAULT_DEPLOYMENTS, modelRefusal } from "./deployments.ts";
import { faultsIn } from "./faults.ts";
import { azureHeaders, faultResponse, sleep } from "./http.ts";
import { completeBatch } from "./operations/batches.ts";
import { field, json, newState, streamResponse, type OperationContext } from "./operations/context.ts";
import { serveGeneratedImage } from "./operations/images.ts";
import { estimateOf, Quotas, type DeploymentQuota } from "./quota.ts";
import { realtimeSimulator } from "./realtime.ts";
import { Recorder } from "./recorder.ts";
import type { Upgrade } from "../runtime/web-sockets.ts";
import { readBody } from "./request-body.ts";
import { DATED_VERSION, datedVersionAllows, findRow, parsePath } from "./routing.ts";
import type { Step } from "./sse-writer.ts";
import { OPERATIONS } from "./operation-table.ts";

export { DEFAULT_DEPLOYMENTS } from "./deployments.ts";
export { OPERATIONS } from "./operation-table.ts";

export interface SimulatorOptions {
  apiKey: string;
  /** deployment name → the model+version Azure reports in `model` */
  deployments?: Record<string, string>;
  region?: string;
  /** Directives with `on=NAME` apply only to the simulator of that name. */
  name?: string;
  /** Bearer tokens to accept as Microsoft Entra ID tokens, on both API styles (§2). */
  acceptToken?: (token: string) => boolean;
  /**
   * Refuse v1-preview operations (images, audio; §1.4) on /openai/v1 unless `api-version=preview`
   * is sent. Off by default: the contract documents the preview surface but not Azure's answer
   * when the parameter is missing.
   */
  strictV1Preview?: boolean;
  /**
   * Deployment name → its quota (quota.ts): remaining-requests/-tokens headers that count down,
   * PTU utilization, a 429 once spent. A call carrying `x-ms-spillover-deployment` that does
   * not fit goes to that deployment instead, as Azure's spillover does.
   */
  quotas?: Record<string, DeploymentQuota>;
}

export interface Simulator {
  /** `upgrade` (from the runtime's server) lets it answer Realtime WebSocket sessions (realtime.ts). */
  fetch(request: Request, upgrade?: Upgrade): Promise<Response>;
  readonly recorder: Recorder;
  readonly quotas: Quotas;
}

export function createSimulator(options: SimulatorOptions): Simulator {
  const recorder = new Recorder();
  const state = newState(options.deployments ?? DEFAULT_DEPLOYMENTS);
  const region = options.region ?? "East US";
  const quotas = new Quotas(options.quotas ?? {});
  const realtime = realtimeSimulator({ ...options, deployments: state.deployments, region, recorder });

  async function fetch(request: Request, upgrade?: Upgrade): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname === "/_sim/realtime/handshake" && request.method === "POST") {
      realtime.queueHandshakeFault(await request.text());
      return Response.json({ ok: true });
    }
    const finished = /^\/_sim\/batches\/([^/]+)\/complete$/.exec(url.pathname);
    if (finished && request.method === "POST") return completeBatch(state, finished[1]!);
    if (url.pathname.startsWith("/_sim/")) return control(url, request, recorder, quotas);
    if ((url.pathname === "/openai/v1/realtime/client_secrets" || url.pathname === "/openai/v1/realtime/calls") && request.method === "POST")
      return realtime.handleHttp(request, url);
    if (
      upgrade &&
      (url.pathname === "/openai/v1/realtime" || url.pathname === "/openai/realtime") &&
      request.headers.get("upgrade")?.toLowerCase() === "websocket"
    ) {
      // after an upgrade on Bun there is no response to give (undefined is what Bun.serve expects)
      return (await realtime.handle(request, url, upgrade)) as Response;
    }

    const parsed = parsePath(url.pathname);
    const headers = azureHeaders(region, request);
    if (!parsed) return json(AZURE_BODIES.resourceNotFound, 404, headers);

    const raw = await readBody(request);
    const entry = recorder.record(request, url, raw.text, raw.digest);
    request.signal.addEventListener("abort", () => recorder.closed(entry), { once: true });
    const streams = new WeakSet<Response>();
    const done = (response: Response) => {
      if (!streams.has(response)) recorder.completed(entry);
      return response;
    };
    const fail = (body: unknown, status: number) => done(json(body, status, headers));

    // §1.4/§5.2: a dated route without a valid api-version is 404; v1 takes only v1|preview
    const apiVersion = url.searchParams.get("api-version");
    const v1 = parsed.style === "v1";
    if (!v1 && (apiVersion === null || !DATED_VERSION.test(apiVersion))) return fail(AZURE_BODIES.resourceNotFound, 404);
    if (v1 && apiVersion !== null && apiVersion !== "v1" && apiVersion !== "preview") return fail(AZURE_BODIES.apiVersionNotSupported, 400);

    // §2: `api-key` everywhere; `Authorization: Bearer <key>` only on v1
    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
    const entra = bearer !== undefined && options.acceptToken?.(bearer) === true;
    const authorised = request.headers.get("api-key") === options.apiKey || (v1 && bearer === options.apiKey) || entra;
    if (!authorised) return fail(AZURE_BODIES.unauthorized, 401);

    const found = findRow(OPERATIONS, parsed, request.method);
    if (!found) return fail(AZURE_BODIES.resourceNotFound, 404);
    const { row, params } = found;
    if (!v1 && !datedVersionAllows(row[parsed.style as "scoped" | "dated"]!, apiVersion!)) return fail(AZURE_BODIES.resourceNotFound, 404);
    if (v1 && row.v1 === "preview" && options.strictV1Preview && apiVersion !== "preview") return fail(AZURE_BODIES.resourceNotFound, 404);

    let body: Record<string, unknown> = {};
    if (row.body === "json") {
      const parsedBody = parseObject(raw.text);
      if (!parsedBody) return fail(AZURE_BODIES.invalidJson, 400);
      body = parsedBody;
    }
    if (row.body === "multipart" && !raw.form) return fail(AZURE_BODIES.notMultipart, 400);

    let deployment = "";
    let model = "";
    if (row.capability) {
      const name = parsed.style === "scoped" ? parsed.deployment : row.body === "multipart" ? field(raw.form, "model") : body.model;
      if (typeof name !== "string" || name === "") return fail(AZURE_BODIES.missingModel, 400);
      const underlying = state.deployments[name];
      if (underlying === undefined) return fail(AZURE_BODIES.deploymentNotFound, 404);
      headers.set("x-ms-deployment-name", name);
      const refusal = modelRefusal(underlying, row.capability, v1 ? null : apiVersion);
      if (refusal) return fail(refusal, 400);
      deployment = name;
      model = underlying;
    }

    const faults = faultsIn(raw.text, options.name);
    if (faults.firstByteMs) await sleep(faults.firstByteMs, request.signal);
    if (request.signal.aborted) return done(new Response(null, { status: 499 }));
    const failure = faultResponse(faults, row.azureName, apiVersion ?? "v1", headers, row.filterBody);
    if (failure) return done(failure);
    if (deployment && quotas.has(deployment)) {
      const served = admitted(deployment, request, raw.text, headers);
      if (typeof served === "number") {
        const retry = { ...faults, status: 429, retryAfter: Math.ceil(served / 1000), retryAfterMs: served };
        return done(faultResponse(retry, row.azureName, apiVersion ?? "v1", headers, row.filterBody)!);
      }
      if (served !== deployment) {
        deployment = served;
        model = state.deployments[served]!;
      }
    }

    const ctx: OperationContext = {
      request,
      url,
      style: v1 ? "v1" : "dated",
      apiVersion,
      params,
      body,
      form: raw.form,
      deployment,
      model,
      faults,
      headers,
      entry,
      recorder,
      state,
      streamed(steps: Step[], status = 200) {
        const response = streamResponse(ctx, steps, headers, status);
        streams.add(response);
        return response;
      },
    };
    return done(await row.handle(ctx));
  }

  /**
   * Count the call against its deployment's quota; the deployment that serves it (the spillover
   * one when the call does not fit and names one), or the ms until it would fit (a 429).
   */
  function admitted(deployment: string, request: Request, bodyText: string, headers: Headers): string | number {
    const estimate = estimateOf(bodyText);
    const first = quotas.admit(deployment, estimate);
    if (first.ok) {
      quotas.setHeaders(deployment, headers);
      return deployment;
    }
    const spill = request.headers.get("x-ms-spillover-deployment");
    if (spill && spill !== deployment && state.deployments[spill] !== undefined && quotas.admit(spill, estimate).ok) {
      quotas.spilled(deployment);
      quotas.setHeaders(spill, headers);
      headers.set("x-ms-spillover-from-deployment", deployment);
      headers.set("x-ms-deployment-name", spill);
      return spill;
    }
    return first.retryAfterMs;
  }

  return { fetch, recorder, quotas };
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function control(url: URL, request: Request, recorder: Recorder, quotas: Quotas): Response {
  if (url.pathname === "/_sim/requests" && request.method === "GET") return Response.json(recorder.all());
  if (url.pathname === "/_sim/quota" && request.method === "GET") return Response.json(quotas.usage());
  if (url.pathname === "/_sim/reset" && request.method === "POST") {
    recorder.clear();
    quotas.reset();
    return Response.json({ ok: true });
  }
  if (url.pathname.startsWith("/_sim/images/") && request.method === "GET") return serveGeneratedImage();
  return Response.json({ error: { code: "404", message: "Unknown simulator control path" } }, { status: 404 });
}
