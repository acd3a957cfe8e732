/**
 * Models, docs/azure.md §4.4. The dated `GET /openai/models` is Azure-shaped: `created_at`
 * (not `created`), `capabilities`, `lifecycle_status`, `deprecation`, and no `owned_by`; it lists
 * models available to the resource, not deployments. The v1 `/openai/v1/models` is OpenAI's
 * ListModelsResponse. Here "available models" are the models behind the configured deployments.
 */
import { capabilitiesOf, familyOf } from "../deployments.ts";
import { json, notFound, type OperationContext } from "./context.ts";

const DAY = 86400;

function modelIds(ctx: OperationContext): string[] {
  return [...new Set(Object.values(ctx.state.deployments))];
}

/** The release date in the model name when there is one, else a fixed date: deterministic. */
function createdAt(id: string): number {
  const date = /(\d{4}-\d{2}-\d{2})$/.exec(id)?.[1];
  return date ? Date.parse(`${date}T00:00:00Z`) / 1000 : 1700000000;
}

function azureModel(id: string) {
  const caps = capabilitiesOf(id);
  const created = createdAt(id);
  return {
    status: "succeeded",
    capabilities: {
      fine_tune: false,
      inference: true,
      completion: caps.includes("completion"),
      chat_completion: caps.includes("chatCompletion"),
      embeddings: caps.includes("embeddings"),
    },
    lifecycle_status: familyOf(id).datedSince?.endsWith("-preview") ? "preview" : "generally-available",
    deprecation: { inference: created + 365 * DAY },
    id,
    created_at: created,
    object: "model",
  };
}

function openaiModel(id: string) {
  return { id, object: "model", created: createdAt(id), owned_by: "system" };
}

export function listModels(ctx: OperationContext): Response {
  const ids = modelIds(ctx);
  const data = ctx.style === "v1" ? ids.map(openaiModel) : ids.map(azureModel);
  return json({ data, object: "list" }, 200, ctx.headers);
}

export function getModel(ctx: OperationContext): Response {
  const id = ctx.params.id!;
  if (!modelIds(ctx).includes(id)) return json(notFound("Model", id), 404, ctx.headers);
  return json(ctx.style === "v1" ? openaiModel(id) : azureModel(id), 200, ctx.headers);
}
