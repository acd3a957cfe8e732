/**
 * Files Azure makes for an object, not the client: a batch's output and error files, a
 * fine-tuning job's result files. Nobody claimed them, so they would be the admins' only and
 * a batch's owner could not download its own results. They belong to the object's owner, and
 * are claimed for it when it reads the object (which is how the SDKs learn their ids). A file
 * already claimed keeps its first owner.
 */
import type { ProxyCall } from "../../proxy/call.ts";
import { V1_RESOURCE } from "../../proxy/operations.ts";

/** Reads of a batch or a fine-tuning job (and their cancel): the answers that name such files. */
export function namesDerivedFiles(call: Pick<ProxyCall, "operation" | "params">): boolean {
  if (call.operation !== V1_RESOURCE) return false;
  const path = call.params["*"] ?? "";
  return path.startsWith("batches/") || path.startsWith("fine_tuning/jobs/");
}

export function derivedFileIds(text: string): string[] {
  let value: { output_file_id?: unknown; error_file_id?: unknown; result_files?: unknown };
  try {
    value = JSON.parse(text);
  } catch {
    return [];
  }
  const ids = [value?.output_file_id, value?.error_file_id, ...(Array.isArray(value?.result_files) ? value.result_files : [])];
  return ids.filter((id): id is string => typeof id === "string" && id !== "");
}
