/** Each model-routed operation with its request schema in both shapes and its body reader. */
import type { TSchema } from "elysia";
import {
  AUDIO_SPEECH,
  AUDIO_TRANSCRIPTIONS,
  AUDIO_TRANSLATIONS,
  CHAT_COMPLETIONS,
  COMPLETIONS,
  EMBEDDINGS,
  IMAGE_EDITS,
  IMAGE_GENERATIONS,
  RESPONSES,
  type Operation,
} from "../proxy/operations.ts";
import { DeploymentSpeechRequest, DeploymentTranscriptionForm, SpeechRequest, TranscriptionForm } from "./models/audio.ts";
import { ChatCompletionRequest, DeploymentChatCompletionRequest } from "./models/chat.ts";
import { CompletionRequest, DeploymentCompletionRequest } from "./models/completions.ts";
import { DeploymentEmbeddingRequest, EmbeddingRequest } from "./models/embeddings.ts";
import { DeploymentImageEditForm, DeploymentImageGenerationRequest, ImageEditForm, ImageGenerationRequest } from "./models/images.ts";
import { ResponseRequest } from "./models/responses.ts";
import { Failure } from "../lib/failure.ts";
import { checkChatMessages } from "./models/chat-messages.ts";
import type { BodyLimits } from "./body-read.ts";
import { jsonRouteParser, multipartBodyParser } from "./request-body.ts";

export interface ModelRoute {
  readonly op: Operation;
  /** OpenAI shape and Azure v1 shape: `model` in the body, required. */
  readonly schema: TSchema;
  /** Azure dated shape: the deployment is in the path; `model` optional (docs/azure.md §1.2). */
  readonly deploymentSchema: TSchema;
  /** What the schema cannot say about a valid body; throws the client's Failure. */
  readonly check?: (body: Record<string, unknown>) => void;
}

/** An image edit needs an image, sent as `image` or (several) `image[]`: one of two names, which a schema cannot require. */
function imageGiven(body: Record<string, unknown>): void {
  if (body.image === undefined && body["image[]"] === undefined) {
    throw new Failure("invalid_request", "Missing required parameter: 'image'.", { param: "image", code: "missing_required_parameter" });
  }
}

function chatMessages(body: Record<string, unknown>): void {
  checkChatMessages(body.messages as Parameters<typeof checkChatMessages>[0]);
}

export const MODEL_ROUTES: readonly ModelRoute[] = [
  { op: CHAT_COMPLETIONS, schema: ChatCompletionRequest, deploymentSchema: DeploymentChatCompletionRequest, check: chatMessages },
  { op: COMPLETIONS, schema: CompletionRequest, deploymentSchema: DeploymentCompletionRequest },
  { op: EMBEDDINGS, schema: EmbeddingRequest, deploymentSchema: DeploymentEmbeddingRequest },
  { op: IMAGE_GENERATIONS, schema: ImageGenerationRequest, deploymentSchema: DeploymentImageGenerationRequest },
  { op: IMAGE_EDITS, schema: ImageEditForm, deploymentSchema: DeploymentImageEditForm, check: imageGiven },
  { op: AUDIO_TRANSCRIPTIONS, schema: TranscriptionForm, deploymentSchema: DeploymentTranscriptionForm },
  { op: AUDIO_TRANSLATIONS, schema: TranscriptionForm, deploymentSchema: DeploymentTranscriptionForm },
  { op: AUDIO_SPEECH, schema: SpeechRequest, deploymentSchema: DeploymentSpeechRequest },
  // not deployment-scoped in the dated API: its Azure dated shape is /openai/responses
  { op: RESPONSES, schema: ResponseRequest, deploymentSchema: ResponseRequest },
];

export function bodyParserFor(op: Operation, limits: BodyLimits) {
  return op.body === "multipart" ? multipartBodyParser(limits) : jsonRouteParser(limits);
}
