/**
 * Which object a call touches, for ownership: the relayed v1 resources (files, batches, vector
 * stores, fine-tuning jobs) and stored responses. Pure: from the operation and the path only.
 *   create  a POST to a collection (/files, /batches, /vector_stores, /fine_tuning/jobs,
 *           /responses): the new object's id is claimed for the caller's key
 *   list    a GET of a collection: the answer is filtered to the caller's objects
 *   object  anything on one object or below it (/files/{id}/content, /vector_stores/{id}/files):
 *           only its owner (or an admin key) gets past
 */
import type { ProxyCall } from "../../proxy/call.ts";
import { STORED_RESPONSE_OPERATIONS, V1_RESOURCE } from "../../proxy/operations.ts";

export type ObjectAccess =
  | { readonly kind: "none" }
  | { readonly kind: "create" }
  | { readonly kind: "list" }
  | { readonly kind: "object"; readonly id: string };

const NONE: ObjectAccess = { kind: "none" };
/** How many path segments name the collection. */
const COLLECTIONS: Record<string, number> = { files: 1, batches: 1, vector_stores: 1, fine_tuning: 2 };

export function accessOf(call: Pick<ProxyCall, "operation" | "method" | "params">): ObjectAccess {
  const { operation } = call;
  if (operation.storesObject) return { kind: "create" };
  if (STORED_RESPONSE_OPERATIONS.includes(operation)) return call.params.id ? { kind: "object", id: call.params.id } : NONE;
  if (operation !== V1_RESOURCE) return NONE;
  const segments = (call.params["*"] ?? "").split("/").filter(Boolean);
  const depth = COLLECTIONS[segments[0] ?? ""];
  // fine-tuning: only jobs are objects a key creates
  if (depth === undefined || (segments[0] === "fine_tuning" && segments[1] !== "jobs")) return NONE;
  if (segments.length < depth) return NONE;
  if (segments.length === depth) return call.method === "POST" ? { kind: "create" } : call.method === "GET" ? { kind: "list" } : NONE;
  return { kind: "object", id: safeDecode(segments[depth]!) };
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
