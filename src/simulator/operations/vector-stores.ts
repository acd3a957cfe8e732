/**
 * Vector stores, docs/azure.md §1.4 (`/openai/v1/vector_stores`, GA on v1). Create, list,
 * retrieve and delete, in OpenAI's object shape; file ids are counted, not indexed.
 */
import { newId } from "../store.ts";
import { json, listing, lookup, notFound, unixNow, type OperationContext } from "./context.ts";

export function createVectorStore(ctx: OperationContext): Response {
  const { body } = ctx;
  const files = Array.isArray(body.file_ids) ? body.file_ids.length : 0;
  const now = unixNow();
  const store = {
    id: newId("vs_"),
    object: "vector_store",
    created_at: now,
    name: typeof body.name === "string" ? body.name : null,
    usage_bytes: 0,
    file_counts: { in_progress: 0, completed: files, failed: 0, cancelled: 0, total: files },
    status: "completed",
    expires_after: body.expires_after ?? null,
    expires_at: null,
    last_active_at: now,
    metadata: body.metadata ?? {},
  };
  ctx.state.vectorStores.put(store.id, store);
  return json(store, 200, ctx.headers);
}

export const listVectorStores = listing("vectorStores");

export const getVectorStore = lookup("vectorStores", "Vector store");

export function deleteVectorStore(ctx: OperationContext): Response {
  const id = ctx.params.id!;
  if (!ctx.state.vectorStores.delete(id)) return json(notFound("Vector store", id), 404, ctx.headers);
  return json({ id, object: "vector_store.deleted", deleted: true }, 200, ctx.headers);
}
