/**
 * `GET /v1/models` and `/v1/models/{id}`: the models clients may ask for, in OpenAI's list
 * shape, so model pickers (LobeChat, NextChat) fill in. Built once from the routing table.
 */
import { Elysia } from "elysia";
import { Failure } from "../lib/failure.ts";

export function modelListRoutes(models: readonly string[], createdAt: number) {
  const entries = models.map((id) => Object.freeze({ id, object: "model", created: createdAt, owned_by: "azure-proxy" }));
  const byId = new Map(entries.map((e) => [e.id, e]));
  const list = JSON.stringify({ object: "list", data: entries });
  const one = ({ params }: { params: { id: string } }) => {
    const entry = byId.get(params.id);
    if (!entry) {
      throw new Failure("model_not_found", `The model '${params.id}' does not exist. Available models: ${models.join(", ") || "none listed"}.`, {
        param: "model",
        code: "model_not_found",
      });
    }
    return Response.json(entry);
  };
  const all = () => new Response(list, { headers: { "content-type": "application/json" } });
  // OpenAI shape, and the Azure shapes an Azure-configured client lists models with
  return new Elysia({ name: "model-list" })
    .get("/v1/models", all)
    .get("/v1/models/:id", one)
    .get("/openai/v1/models", all)
    .get("/openai/v1/models/:id", one)
    .get("/openai/models", all)
    .get("/openai/models/:id", one);
}
