/**
 * Azure shape: clients configured for Azure (AzureOpenAI SDK, NextChat's and LobeChat's Azure
 * modes) with endpoint `http://host:8000` and the key in `api-key`. The client's api-version is
 * accepted and not passed on: the upstream's configured version decides the upstream style.
 */
import { Elysia, t } from "elysia";
import type { Forward } from "../proxy/forward.ts";
import { CHAT_COMPLETIONS } from "../proxy/operation.ts";
import { callFrom } from "./call-from-request.ts";
import { jsonBodyParser } from "./json-body.ts";
import { ChatCompletionRequest, DeploymentChatCompletionRequest } from "./models/chat.ts";

const DeploymentParams = t.Object({ deployment: t.String({ minLength: 1 }) });

export function azureRoutes(forward: Forward, maxBodyBytes: number) {
  const parse = jsonBodyParser(maxBodyBytes);
  return new Elysia({ name: "azure-routes", normalize: false, prefix: "/openai" })
    .post(
      `/deployments/:deployment${CHAT_COMPLETIONS.suffix}`,
      ({ body, params, request }) => forward(callFrom(request, CHAT_COMPLETIONS, params.deployment, body)),
      { body: DeploymentChatCompletionRequest, params: DeploymentParams, parse },
    )
    .post(`/v1${CHAT_COMPLETIONS.suffix}`, ({ body, request }) => forward(callFrom(request, CHAT_COMPLETIONS, body.model, body)), {
      body: ChatCompletionRequest,
      parse,
    });
}
