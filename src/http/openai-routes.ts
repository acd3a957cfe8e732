/** OpenAI shape: clients with base URL `http://host:8000/v1` and `Authorization: Bearer`. */
import { Elysia } from "elysia";
import type { Forward } from "../proxy/forward.ts";
import { CHAT_COMPLETIONS } from "../proxy/operation.ts";
import { callFrom } from "./call-from-request.ts";
import { jsonBodyParser } from "./json-body.ts";
import { ChatCompletionRequest } from "./models/chat.ts";

export function openaiRoutes(forward: Forward, maxBodyBytes: number) {
  const parse = jsonBodyParser(maxBodyBytes);
  return new Elysia({ name: "openai-routes", normalize: false, prefix: "/v1" }).post(
    CHAT_COMPLETIONS.suffix,
    ({ body, request }) => forward(callFrom(request, CHAT_COMPLETIONS, body.model, body)),
    { body: ChatCompletionRequest, parse },
  );
}
