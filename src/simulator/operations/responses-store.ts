/**
 * Stored responses (docs/azure.md §8.10: `GET /openai/v1/responses/{id}` on the v1 spec's
 * Responses tag; the same rows exist on the dated preview path). Retrieve, delete, cancel and
 * list input items, with OpenAI's semantics: only `background: true` responses can be
 * cancelled (a foreground one is a 400), a finished background response is returned unchanged,
 * and an unknown or deleted id is a 404.
 */
import { listPage } from "../store.ts";
import { invalidRequest, json, notFound, unixNow, type OperationContext, type StoredResponse } from "./context.ts";

function lookup(ctx: OperationContext): StoredResponse | Response {
  const stored = ctx.state.responses.get(ctx.params.id!);
  if (!stored) return json(notFound("Response", ctx.params.id!), 404, ctx.headers);
  // A queued background response finishes once its time has come.
  if (stored.finishAt !== undefined && stored.final && Date.now() >= stored.finishAt && isActive(stored)) {
    stored.response = stored.final;
    stored.finishAt = undefined;
  }
  return stored;
}

function isActive(stored: StoredResponse): boolean {
  return stored.response.status === "queued" || stored.response.status === "in_progress";
}

export function getResponse(ctx: OperationContext): Response {
  const stored = lookup(ctx);
  return stored instanceof Response ? stored : json(stored.response, 200, ctx.headers);
}

export function deleteResponse(ctx: OperationContext): Response {
  const stored = lookup(ctx);
  if (stored instanceof Response) return stored;
  ctx.state.responses.delete(stored.id);
  return json({ id: stored.id, object: "response.deleted", deleted: true }, 200, ctx.headers);
}

export function cancelResponse(ctx: OperationContext): Response {
  const stored = lookup(ctx);
  if (stored instanceof Response) return stored;
  // OpenAI's refusal for a foreground response (the wording vLLM copies; inferred for Azure)
  if (stored.response.background !== true) return json(invalidRequest("Cannot cancel a synchronous response."), 400, ctx.headers);
  if (isActive(stored)) {
    stored.response = { ...stored.response, status: "cancelled", cancelled_at: unixNow() };
    stored.finishAt = undefined;
  }
  return json(stored.response, 200, ctx.headers);
}

export function listInputItems(ctx: OperationContext): Response {
  const stored = lookup(ctx);
  if (stored instanceof Response) return stored;
  // OpenAI's default order for input items is newest first (`order=desc`)
  const items = ctx.url.searchParams.get("order") === "asc" ? stored.inputItems : [...stored.inputItems].reverse();
  return json(listPage(items, ctx.url.searchParams), 200, ctx.headers);
}
