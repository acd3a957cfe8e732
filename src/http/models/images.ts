/** Image generation (JSON) and edits (multipart form, see forms.ts). */
import { t } from "elysia";
import { FileField, Integer, ModelName, nullable, open } from "./common.ts";

const generationFields = {
  prompt: t.String({ minLength: 1, hint: "a non-empty prompt" }),
  n: nullable(Integer({ minimum: 1, maximum: 10 })),
  size: nullable(t.String()),
  response_format: nullable(t.Union([t.Literal("url"), t.Literal("b64_json")])),
  quality: nullable(t.String()),
  style: nullable(t.String()),
};

export const ImageGenerationRequest = t.Object({ model: ModelName, ...generationFields }, open);
export const DeploymentImageGenerationRequest = t.Object({ model: t.Optional(t.String()), ...generationFields }, open);

const editFields = {
  prompt: t.String({ minLength: 1, hint: "a non-empty prompt" }),
  // OpenAI's SDKs send `image` for one file and `image[]` for several
  image: t.Optional(FileField),
  "image[]": t.Optional(FileField),
  mask: t.Optional(FileField),
};

export const ImageEditForm = t.Object({ model: ModelName, ...editFields }, open);
export const DeploymentImageEditForm = t.Object({ model: t.Optional(t.String()), ...editFields }, open);
