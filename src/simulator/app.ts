/**
 * The Azure OpenAI simulator: a web-standard fetch handler that answers like Azure does
 * (../shared/azure-contract.md): dated and v1 paths, api-version rules, `api-key` auth,
 * DeploymentNotFound, Azure's headers and error bodies, and faults on request (faults.ts).
 * New operations are rows in OPERATIONS.
 */
import { AZURE_BODIES, MID_STREAM_ERROR, rateLimited } from "./azure-errors.ts";
import { faultsIn, type Faults } from "./faults.ts";
import { completionJson, DEFAULT_REPLY, streamSteps, type ChatRequest } from "./operations/chat.ts";
import { Recorder, type RecordedRequest } from "./recorder.ts";
import { scriptedStream } from "./sse-writer.ts";

export interface SimulatorOptions {
  apiKey: string;
  /** deployment name → the model+version Azure reports in `model` */
  deployments?: Record<string, string>;
  region?: string;
}

export const DEFAULT_DEPLOYMENTS: Readonly<Record<string, string>> = Object.freeze({
  "gpt-4o": "gpt-4o-2024-11-20",
  "gpt-4o-mini": "gpt-4o-mini-2024-07-18",
  "gpt-4.1": "gpt-4.1-2025-04-14",
  "gpt-35-turbo": "gpt-35-turbo",
});

export interface Simulator {
  fetch(request: Request): Promise<Response>;
  readonly recorder: Recorder;
}

interface OperationContext {
  body: Record<string, unknown>;
  model: string;
  faults: Faults;
  headers: Headers;
  entry: RecordedRequest;
  recorder: Recorder;
}

interface SimOperation {
  /** Azure's operation name, as it appears in 429 messages. */
  azureName: string;
  handle(ctx: OperationContext): Response;
}

const OPERATIONS: Record<string, SimOperation> = {
  "/chat/completions": { azureName: "ChatCompletions_Create", handle: chatCompletions },
};

const DATED = /^\/openai\/deployments\/([^/]+)(\/.+)$/;
const V1 = /^\/openai\/v1(\/.+)$/;
const DATED_VERSION = /^\d{4}-\d{2}-\d{2}(-preview)?$/;

export function createSimulator(options: SimulatorOptions): Simulator {
  const recorder = new Recorder();
  const deployments = options.deployments ?? DEFAULT_DEPLOYMENTS;
  const region = options.region ?? "East US";

  async function fetch(request: Request): Promise<Response> {
    const url = new URL(request.url);
    if (url.pathname.startsWith("/_sim/")) return control(url, request, recorder);

    const dated = DATED.exec(url.pathname);
    const v1 = dated ? null : V1.exec(url.pathname);
    const headers = azureHeaders(region, request);
    if (!dated && !v1) return json(AZURE_BODIES.resourceNotFound, 404, headers);

    const bodyText = await request.text();
    const entry = recorder.record(request, url, bodyText);
    request.signal.addEventListener("abort", () => recorder.closed(entry), { once: true });
    const done = (response: Response) => {
      if (!response.body || !(response.headers.get("content-type") ?? "").startsWith("text/event-stream")) recorder.completed(entry);
      return response;
    };

    const apiVersion = url.searchParams.get("api-version");
    if (dated && (apiVersion === null || !DATED_VERSION.test(apiVersion))) return done(json(AZURE_BODIES.resourceNotFound, 404, headers));
    if (v1 && apiVersion !== null && apiVersion !== "v1" && apiVersion !== "preview") return done(json(AZURE_BODIES.apiVersionNotSupported, 400, headers));

    const bearer = /^Bearer\s+(.+)$/i.exec(request.headers.get("authorization") ?? "")?.[1];
    const authorised = request.headers.get("api-key") === options.apiKey || (v1 !== null && bearer === options.apiKey);
    if (!authorised) return done(json(AZURE_BODIES.unauthorized, 401, headers));

    const suffix = dated ? dated[2]! : v1![1]!;
    const operation = OPERATIONS[suffix];
    if (!operation) return done(json(AZURE_BODIES.resourceNotFound, 404, headers));

    let body: Record<string, unknown>;
    try {
      body = JSON.parse(bodyText) as Record<string, unknown>;
    } catch {
      return done(json(AZURE_BODIES.invalidJson, 400, headers));
    }
    const deployment = dated ? decodeURIComponent(dated[1]!) : body.model;
    if (typeof deployment !== "string" || deployment === "") return done(json(AZURE_BODIES.missingModel, 400, headers));
    const model = deployments[deployment];
    if (model === undefined) return done(json(AZURE_BODIES.deploymentNotFound, 404, headers));
    headers.set("x-ms-deployment-name", deployment);

    const faults = faultsIn(bodyText);
    if (faults.firstByteMs) await sleep(faults.firstByteMs, request.signal);
    if (request.signal.aborted) return done(new Response(null, { status: 499 }));
    const failure = faultResponse(faults, operation.azureName, apiVersion ?? "v1", headers);
    if (failure) return done(failure);
    return done(operation.handle({ body, model, faults, headers, entry, recorder }));
  }

  return { fetch, recorder };
}

function chatCompletions({ body, model, faults, headers, entry, recorder }: OperationContext): Response {
  const request = body as ChatRequest;
  const reply = faults.reply ?? DEFAULT_REPLY;
  const id = `chatcmpl-SIM${entry.seq.toString().padStart(8, "0")}`;
  const created = Math.floor(entry.receivedAt / 1000);
  if (request.stream !== true) return json(completionJson(request, model, reply, id, created), 200, headers);

  headers.set("content-type", "text/event-stream; charset=utf-8");
  const steps = streamSteps(request, model, reply, id, created, faults, JSON.stringify(MID_STREAM_ERROR));
  const stream = scriptedStream(steps, {
    split: faults.split,
    onClientClosed: () => recorder.closed(entry),
    onComplete: () => recorder.completed(entry),
  });
  return new Response(stream, { status: 200, headers });
}

function faultResponse(faults: Faults, operation: string, apiVersion: string, headers: Headers): Response | undefined {
  if (faults.filter === "prompt") return json(AZURE_BODIES.promptFiltered, 400, headers);
  if (faults.status === undefined) return undefined;
  if (faults.status === 429) {
    const seconds = faults.retryAfter ?? 1;
    headers.set("retry-after", String(seconds));
    headers.set("retry-after-ms", String(faults.retryAfterMs ?? seconds * 1000));
    headers.set("x-ratelimit-remaining-requests", "0");
    headers.set("x-ratelimit-remaining-tokens", "0");
    return json(rateLimited(operation, apiVersion, seconds), 429, headers);
  }
  if (faults.status === 503) return json(AZURE_BODIES.unavailable, 503, headers);
  if (faults.status >= 500) return json(AZURE_BODIES.internal, faults.status, headers);
  return json({ error: { code: String(faults.status), message: `Simulated HTTP ${faults.status}` } }, faults.status, headers);
}

function azureHeaders(region: string, request: Request): Headers {
  const id = crypto.randomUUID();
  const headers = new Headers({
    "content-type": "application/json",
    "apim-request-id": id,
    "x-request-id": crypto.randomUUID(),
    "x-ms-region": region,
    "x-ratelimit-remaining-requests": "99",
    "x-ratelimit-remaining-tokens": "99000",
  });
  headers.set("x-ms-client-request-id", request.headers.get("x-ms-client-request-id") ?? id);
  return headers;
}

function json(body: unknown, status: number, headers: Headers): Response {
  return new Response(JSON.stringify(body), { status, headers });
}

function control(url: URL, request: Request, recorder: Recorder): Response {
  if (url.pathname === "/_sim/requests" && request.method === "GET") return Response.json(recorder.all());
  if (url.pathname === "/_sim/reset" && request.method === "POST") {
    recorder.clear();
    return Response.json({ ok: true });
  }
  return Response.json({ error: { code: "404", message: "Unknown simulator control path" } }, { status: 404 });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
