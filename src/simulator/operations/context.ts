/**
 * What every operation handler gets, and the small helpers they share (JSON answers, OpenAI-
 * style 400s, Azure 404s for unknown ids, scripted streams that report to the recorder).
 */
import type { Faults } from "../faults.ts";
import type { Recorder, RecordedRequest } from "../recorder.ts";
import { scriptedStream, type Step } from "../sse-writer.ts";
import { BoundedStore, listPage } from "../store.ts";

export interface SimState {
  files: BoundedStore<StoredFile>;
  batches: BoundedStore<Record<string, unknown> & { id: string }>;
  vectorStores: BoundedStore<Record<string, unknown> & { id: string }>;
  fineTuningJobs: BoundedStore<Record<string, unknown> & { id: string }>;
  responses: BoundedStore<StoredResponse>;
  /** Deployment name → underlying model (options.deployments or DEFAULT_DEPLOYMENTS). */
  deployments: Readonly<Record<string, string>>;
}

export interface StoredFile {
  id: string;
  object: "file";
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  status: string;
  content: Uint8Array<ArrayBuffer>;
  contentType: string;
}

export interface StoredResponse {
  id: string;
  response: Record<string, unknown>;
  inputItems: Array<Record<string, unknown> & { id: string }>;
  /** `background: true` responses become `final` at this time unless cancelled first. */
  finishAt?: number;
  final?: Record<string, unknown>;
}

export function newState(deployments: Readonly<Record<string, string>>): SimState {
  return {
    files: new BoundedStore<StoredFile>({ maxItems: 500, maxBytes: 64 * 1024 * 1024 }, (f) => f.content.length),
    batches: new BoundedStore({ maxItems: 500 }),
    vectorStores: new BoundedStore({ maxItems: 500 }),
    fineTuningJobs: new BoundedStore({ maxItems: 500 }),
    responses: new BoundedStore<StoredResponse>({ maxItems: 500 }),
    deployments,
  };
}

export interface OperationContext {
  request: Request;
  url: URL;
  /** "dated" covers both `/openai/deployments/{d}/…` and `/openai/…?api-version=`. */
  style: "dated" | "v1";
  apiVersion: string | null;
  /** Path parameters from the OPERATIONS row (`{id}`). */
  params: Record<string, string>;
  /** The JSON body, or {} for multipart and bodiless operations. */
  body: Record<string, unknown>;
  form?: FormData;
  /** The deployment and its underlying model, for operations that run a model; else "". */
  deployment: string;
  model: string;
  faults: Faults;
  /** Response headers prepared with Azure's ids and rate-limit headers. */
  headers: Headers;
  entry: RecordedRequest;
  recorder: Recorder;
  state: SimState;
  /** Mark a response whose body is a scripted stream: the stream reports its own completion. */
  streamed(steps: Step[], status?: number): Response;
}

export type Handler = (ctx: OperationContext) => Response | Promise<Response>;

export function json(body: unknown, status: number, headers: Headers): Response {
  headers.set("content-type", "application/json");
  return new Response(JSON.stringify(body), { status, headers });
}

/** OpenAI's validation error shape, which Azure passes through for model-side checks (§5.2). */
export function invalidRequest(message: string, param: string | null = null, code: string | null = null) {
  return { error: { message, type: "invalid_request_error", param, code } };
}

/**
 * Unknown object ids. The authoring plane answers with REST-guideline errors (§5.1: `code` plus
 * `message`); `param`/`type` are added so strict OpenAI clients parse it too (inferred).
 */
export function notFound(kind: string, id: string) {
  return { error: { code: "NotFound", message: `${kind} with id '${id}' not found.`, param: null, type: "invalid_request_error" } };
}

/** The stores of plain JSON objects whose list and get answers are nothing but the stored object. */
type ObjectStore = "batches" | "vectorStores" | "fineTuningJobs";

/** GET on a collection: OpenAI's cursor page over the store, newest first. */
export function listing(store: ObjectStore) {
  return (ctx: OperationContext): Response => json(listPage(ctx.state[store].list(), ctx.url.searchParams), 200, ctx.headers);
}

/** GET on one object: as stored, or the 404 naming its `kind`. */
export function lookup(store: ObjectStore, kind: string) {
  return (ctx: OperationContext): Response => {
    const item = ctx.state[store].get(ctx.params.id!);
    return item ? json(item, 200, ctx.headers) : json(notFound(kind, ctx.params.id!), 404, ctx.headers);
  };
}

export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

export function streamResponse(ctx: Pick<OperationContext, "faults" | "recorder" | "entry">, steps: Step[], headers: Headers, status: number): Response {
  const stream = scriptedStream(steps, {
    split: ctx.faults.split,
    onClientClosed: () => ctx.recorder.closed(ctx.entry),
    onComplete: () => ctx.recorder.completed(ctx.entry),
    onWritten: (bytes) => (ctx.entry.bytesWritten += bytes),
  });
  return new Response(stream, { status, headers });
}

/** A text field of a multipart form ("" when absent or a file). */
export function field(form: FormData | undefined, name: string): string {
  const value = form?.get(name);
  return typeof value === "string" ? value : "";
}
