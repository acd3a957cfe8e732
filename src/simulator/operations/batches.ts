/**
 * Batches, docs/azure.md §1.3 (`GET|POST /openai/batches`, `GET /batches/{id}`,
 * `POST /batches/{id}/cancel`; also `/openai/deployments/{d}/batches` for the Node SDK, §1.6)
 * and the v1 equivalent. The object is the 2024-10-21 post_batch.json example's shape. Nothing
 * runs: a batch stays `validating` until cancelled.
 */
import { newId } from "../store.ts";
import { invalidRequest, json, listing, lookup, notFound, unixNow, type OperationContext } from "./context.ts";

type Batch = Record<string, unknown> & { id: string };

export function createBatch(ctx: OperationContext): Response {
  const { body, headers } = ctx;
  for (const name of ["input_file_id", "endpoint", "completion_window"]) {
    if (typeof body[name] !== "string" || body[name] === "") return json(invalidRequest(`'${name}' is a required property`, name), 400, headers);
  }
  const batch: Batch = {
    object: "batch",
    id: ctx.style === "v1" ? newId("batch_") : `batch_${crypto.randomUUID().replaceAll("-", "")}`,
    endpoint: body.endpoint,
    errors: null,
    input_file_id: body.input_file_id,
    completion_window: body.completion_window,
    status: "validating",
    output_file_id: null,
    error_file_id: null,
    created_at: unixNow(),
    in_progress_at: null,
    expires_at: unixNow() + 24 * 3600,
    finalizing_at: null,
    completed_at: null,
    failed_at: null,
    expired_at: null,
    cancelling_at: null,
    cancelled_at: null,
    request_counts: { total: 0, completed: 0, failed: 0 },
    metadata: body.metadata ?? null,
  };
  ctx.state.batches.put(batch.id, batch);
  return json(batch, 200, headers);
}

export const listBatches = listing("batches");

export const getBatch = lookup("batches", "Batch");

/**
 * Test control (POST /_sim/batches/{id}/complete): the batch ends `completed` with an output
 * file, as Azure's would once it ran; a file Azure made, not the client.
 */
export function completeBatch(state: OperationContext["state"], id: string): Response {
  const batch = state.batches.get(id);
  if (!batch) return json(notFound("Batch", id), 404, new Headers());
  const content = new TextEncoder().encode('{"custom_id":"1","response":{"status_code":200}}\n');
  const file = {
    id: `file-${crypto.randomUUID().replaceAll("-", "")}`,
    object: "file" as const,
    bytes: content.length,
    created_at: unixNow(),
    filename: "batch_output.jsonl",
    purpose: "batch_output",
    status: "processed",
    content,
    contentType: "application/jsonl",
  };
  state.files.put(file.id, file);
  const done = { ...batch, status: "completed", completed_at: unixNow(), output_file_id: file.id };
  state.batches.put(id, done);
  return Response.json(done);
}

/** Answers `cancelling`, as OpenAI does; later reads see `cancelled`. */
export function cancelBatch(ctx: OperationContext): Response {
  const batch = ctx.state.batches.get(ctx.params.id!);
  if (!batch) return json(notFound("Batch", ctx.params.id!), 404, ctx.headers);
  if (batch.status === "cancelled") return json(batch, 200, ctx.headers);
  const now = unixNow();
  ctx.state.batches.put(batch.id, { ...batch, status: "cancelled", cancelling_at: now, cancelled_at: now });
  return json({ ...batch, status: "cancelling", cancelling_at: now }, 200, ctx.headers);
}
