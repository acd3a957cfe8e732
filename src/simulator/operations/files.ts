/**
 * Files, docs/azure.md §1.3 (dated authoring: multipart `purpose` + `file`, 201 with a
 * `Location` header) and §1.4 (v1 Files, GA). The file object follows the 2024-10-21 examples:
 * `{status, bytes, purpose, filename, id:"file-<32 hex>", created_at, object:"file"}`. Uploaded
 * bytes are kept (bounded, state.files) so `/content` returns them byte for byte.
 */
import { listPage } from "../store.ts";
import { field, invalidRequest, json, notFound, unixNow, type OperationContext, type StoredFile } from "./context.ts";

// 2024-10-21 authoring spec, Files_Upload `purpose` enum, plus the v1 purposes
const PURPOSES = ["fine-tune", "fine-tune-results", "assistants", "assistants_output", "batch", "batch_output", "user_data", "evals", "vision"];

function publicView(file: StoredFile) {
  const { content: _content, contentType: _type, ...view } = file;
  return view;
}

function hexId(prefix: string): string {
  return `${prefix}${crypto.randomUUID().replaceAll("-", "")}`;
}

export async function uploadFile(ctx: OperationContext): Promise<Response> {
  const { form, headers, state } = ctx;
  const purpose = field(form, "purpose");
  if (!PURPOSES.includes(purpose)) return json(invalidRequest(`Invalid value for 'purpose': '${purpose}'.`, "purpose", "invalid_value"), 400, headers);
  const file = form?.get("file");
  if (!file || typeof file === "string") return json(invalidRequest("'file' is a required property", "file"), 400, headers);
  const content = new Uint8Array(await file.arrayBuffer());
  const stored: StoredFile = {
    status: "processed",
    bytes: content.length,
    purpose,
    filename: file.name,
    id: hexId("file-"),
    created_at: unixNow(),
    object: "file",
    content,
    contentType: file.type || "application/octet-stream",
  };
  state.files.put(stored.id, stored);
  if (ctx.style === "v1") return json(publicView(stored), 200, headers);
  headers.set("location", `${ctx.url.origin}/openai/files/${stored.id}`);
  return json(publicView(stored), 201, headers);
}

export function listFiles(ctx: OperationContext): Response {
  const purpose = ctx.url.searchParams.get("purpose");
  const files = ctx.state.files.list().filter((f) => purpose === null || f.purpose === purpose);
  return json(listPage(files.map(publicView), ctx.url.searchParams, 10000), 200, ctx.headers);
}

function find(ctx: OperationContext): StoredFile | Response {
  const file = ctx.state.files.get(ctx.params.id!);
  return file ?? json(notFound("File", ctx.params.id!), 404, ctx.headers);
}

export function getFile(ctx: OperationContext): Response {
  const file = find(ctx);
  return file instanceof Response ? file : json(publicView(file), 200, ctx.headers);
}

export function deleteFile(ctx: OperationContext): Response {
  const file = find(ctx);
  if (file instanceof Response) return file;
  ctx.state.files.delete(file.id);
  return json({ object: "file", deleted: true, id: file.id }, 200, ctx.headers);
}

export function fileContent(ctx: OperationContext): Response {
  const file = find(ctx);
  if (file instanceof Response) return file;
  ctx.headers.set("content-type", "application/octet-stream");
  return new Response(file.content, { status: 200, headers: ctx.headers });
}
