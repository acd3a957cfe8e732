/**
 * The objects a request body points at by id: a Responses call's `previous_response_id` (which
 * would hand another key's stored conversation to the caller), a batch's `input_file_id`, a
 * fine-tuning job's `training_file` / `validation_file`, a vector store's `file_id` / `file_ids`,
 * `vector_store_ids` of a file_search tool, the `file_id` of an input_file or input_image part.
 * Checking only the path's id would let a key reach another key's object through these, so the
 * gate (gate.ts) asks for each of them to be the caller's as well.
 */
import type { CallBody } from "../../proxy/call.ts";

export interface Reference {
  readonly id: string;
  /** The field that named it, for the 404's `param`. */
  readonly param: string;
}

const ONE = new Set(["previous_response_id", "input_file_id", "training_file", "validation_file", "file_id"]);
const MANY = new Set(["file_ids", "vector_store_ids"]);
/** Free-form maps a client fills with its own strings: a `file_id` there points at nothing. */
const OPAQUE = new Set(["metadata", "attributes"]);
/** A body that names none of the fields (nor hides one behind a \u escape) is not parsed at all. */
const MENTIONS = /previous_response_id|input_file_id|training_file|validation_file|file_ids?"|vector_store_ids|\\u/;

export async function referencesIn(body: CallBody): Promise<Reference[]> {
  const text = await textOf(body);
  if (text === undefined || !MENTIONS.test(text)) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // not JSON: Azure refuses it as well, and nothing in it was read as an id
    return [];
  }
  const found: Reference[] = [];
  collect(value, found);
  return found;
}

async function textOf(body: CallBody): Promise<string | undefined> {
  if (body.kind === "json") return body.text;
  // a relayed resource's body (a batch, a job, a vector store); a file upload is multipart
  if (body.kind === "raw") return new TextDecoder().decode(await body.spool.slice(0, body.spool.byteLength));
  return undefined;
}

function collect(value: unknown, found: Reference[]): void {
  if (Array.isArray(value)) {
    for (const item of value) collect(item, found);
    return;
  }
  if (value === null || typeof value !== "object") return;
  for (const [name, field] of Object.entries(value)) {
    if (OPAQUE.has(name)) continue;
    if (ONE.has(name) && typeof field === "string") found.push({ id: field, param: name });
    else if (MANY.has(name) && Array.isArray(field)) {
      for (const id of field) if (typeof id === "string") found.push({ id, param: name });
    } else collect(field, found);
  }
}
