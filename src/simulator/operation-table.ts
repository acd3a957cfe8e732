/**
 * Every operation the simulator answers, as rows: path, method, Azure's operation name, which
 * API styles have it (docs/azure.md §1.2 scoped, §1.3 dated, §1.4 v1), its body and handler.
 * New operations are rows here; app.ts routes a request to its row.
 */
import { handleSpeech } from "./operations/audio-speech.ts";
import { handleTranscription, handleTranslation } from "./operations/audio-transcriptions.ts";
import { cancelBatch, createBatch, getBatch, listBatches } from "./operations/batches.ts";
import { handleChat } from "./operations/chat.ts";
import { handleCompletions } from "./operations/completions.ts";
import { handleEmbeddings } from "./operations/embeddings.ts";
import { deleteFile, fileContent, getFile, listFiles, uploadFile } from "./operations/files.ts";
import { createFineTuningJob, getFineTuningJob, listFineTuningJobs } from "./operations/fine-tuning.ts";
import { handleImageEdits, handleImageGenerations, IMAGE_PROMPT_FILTERED } from "./operations/images.ts";
import { getModel, listModels } from "./operations/models.ts";
import { handleCreateResponse } from "./operations/responses.ts";
import { cancelResponse, deleteResponse, getResponse, listInputItems } from "./operations/responses-store.ts";
import { createVectorStore, deleteVectorStore, getVectorStore, listVectorStores } from "./operations/vector-stores.ts";
import type { DatedRule, OperationRow } from "./routing.ts";

const ANY: DatedRule = {};
const PREVIEW: DatedRule = { previewOnly: true };
// §1.3: the dated Responses API first appeared in 2025-03-01-preview
const RESPONSES: DatedRule = { previewOnly: true, since: "2025-03-01-preview" };

/** Every operation: §1.2 (scoped), §1.3 (dated), §1.4 (v1). */
export const OPERATIONS: readonly OperationRow[] = [
  {
    path: "/chat/completions",
    method: "POST",
    azureName: "ChatCompletions_Create",
    scoped: ANY,
    v1: "ga",
    body: "json",
    capability: "chatCompletion",
    handle: handleChat,
  },
  {
    path: "/completions",
    method: "POST",
    azureName: "Completions_Create",
    scoped: ANY,
    v1: "ga",
    body: "json",
    capability: "completion",
    handle: handleCompletions,
  },
  {
    path: "/embeddings",
    method: "POST",
    azureName: "Embeddings_Create",
    scoped: ANY,
    v1: "ga",
    body: "json",
    capability: "embeddings",
    handle: handleEmbeddings,
  },
  {
    path: "/images/generations",
    method: "POST",
    azureName: "ImageGenerations_Create",
    scoped: ANY,
    v1: "preview",
    body: "json",
    capability: "imageGenerations",
    filterBody: IMAGE_PROMPT_FILTERED,
    handle: handleImageGenerations,
  },
  {
    path: "/images/edits",
    method: "POST",
    azureName: "ImageEdits_Create",
    scoped: PREVIEW,
    v1: "preview",
    body: "multipart",
    capability: "imageEdits",
    filterBody: IMAGE_PROMPT_FILTERED,
    handle: handleImageEdits,
  },
  {
    path: "/audio/transcriptions",
    method: "POST",
    azureName: "Transcriptions_Create",
    scoped: ANY,
    v1: "preview",
    body: "multipart",
    capability: "audioTranscription",
    handle: handleTranscription,
  },
  {
    path: "/audio/translations",
    method: "POST",
    azureName: "Translations_Create",
    scoped: ANY,
    v1: "preview",
    body: "multipart",
    capability: "audioTranslation",
    handle: handleTranslation,
  },
  {
    path: "/audio/speech",
    method: "POST",
    azureName: "Speech_Create",
    scoped: PREVIEW,
    v1: "preview",
    body: "json",
    capability: "speech",
    handle: handleSpeech,
  },
  {
    path: "/responses",
    method: "POST",
    azureName: "Responses_Create",
    dated: RESPONSES,
    v1: "ga",
    body: "json",
    capability: "responses",
    handle: handleCreateResponse,
  },
  { path: "/responses/{id}", method: "GET", azureName: "Responses_Get", dated: RESPONSES, v1: "ga", body: "none", handle: getResponse },
  { path: "/responses/{id}", method: "DELETE", azureName: "Responses_Delete", dated: RESPONSES, v1: "ga", body: "none", handle: deleteResponse },
  { path: "/responses/{id}/cancel", method: "POST", azureName: "Responses_Cancel", dated: RESPONSES, v1: "ga", body: "none", handle: cancelResponse },
  {
    path: "/responses/{id}/input_items",
    method: "GET",
    azureName: "Responses_ListInputItems",
    dated: RESPONSES,
    v1: "ga",
    body: "none",
    handle: listInputItems,
  },
  { path: "/models", method: "GET", azureName: "Models_List", dated: ANY, v1: "ga", body: "none", handle: listModels },
  { path: "/models/{id}", method: "GET", azureName: "Models_Get", dated: ANY, v1: "ga", body: "none", handle: getModel },
  { path: "/files", method: "POST", azureName: "Files_Upload", dated: ANY, v1: "ga", body: "multipart", handle: uploadFile },
  { path: "/files", method: "GET", azureName: "Files_List", dated: ANY, v1: "ga", body: "none", handle: listFiles },
  { path: "/files/{id}", method: "GET", azureName: "Files_Get", dated: ANY, v1: "ga", body: "none", handle: getFile },
  { path: "/files/{id}", method: "DELETE", azureName: "Files_Delete", dated: ANY, v1: "ga", body: "none", handle: deleteFile },
  { path: "/files/{id}/content", method: "GET", azureName: "Files_GetContent", dated: ANY, v1: "ga", body: "none", handle: fileContent },
  // §1.6: the Node SDK sends batches.create to /openai/deployments/{d}/batches; accept both
  { path: "/batches", method: "POST", azureName: "Batch_Create", scoped: ANY, dated: ANY, v1: "ga", body: "json", handle: createBatch },
  { path: "/batches", method: "GET", azureName: "Batch_List", dated: ANY, v1: "ga", body: "none", handle: listBatches },
  { path: "/batches/{id}", method: "GET", azureName: "Batch_Get", dated: ANY, v1: "ga", body: "none", handle: getBatch },
  { path: "/batches/{id}/cancel", method: "POST", azureName: "Batch_Cancel", dated: ANY, v1: "ga", body: "none", handle: cancelBatch },
  { path: "/vector_stores", method: "POST", azureName: "VectorStores_Create", v1: "ga", body: "json", handle: createVectorStore },
  { path: "/vector_stores", method: "GET", azureName: "VectorStores_List", v1: "ga", body: "none", handle: listVectorStores },
  { path: "/vector_stores/{id}", method: "GET", azureName: "VectorStores_Get", v1: "ga", body: "none", handle: getVectorStore },
  { path: "/vector_stores/{id}", method: "DELETE", azureName: "VectorStores_Delete", v1: "ga", body: "none", handle: deleteVectorStore },
  { path: "/fine_tuning/jobs", method: "POST", azureName: "FineTuning_Create", dated: ANY, v1: "ga", body: "json", handle: createFineTuningJob },
  { path: "/fine_tuning/jobs", method: "GET", azureName: "FineTuning_List", dated: ANY, v1: "ga", body: "none", handle: listFineTuningJobs },
  { path: "/fine_tuning/jobs/{id}", method: "GET", azureName: "FineTuning_Get", dated: ANY, v1: "ga", body: "none", handle: getFineTuningJob },
];
