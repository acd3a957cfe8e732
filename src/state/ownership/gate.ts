/**
 * Object ownership in front of the forwarder: a key sees only the files, batches, vector stores,
 * fine-tuning jobs and stored responses it created; admin keys see all. Another key's object
 * is a 404, as if it did not exist (its existence is not leaked), and is never sent upstream;
 * lists are filtered. Pagination stays usable: a filtered page keeps `has_more`, its
 * `first_id`/`last_id` are those of what is left (OpenAI's SDKs page on from the last item they
 * got), and a page that would come back empty while more follow is fetched on, up to a bound.
 */
import { Failure } from "../../lib/failure.ts";
import { disposeBody, type ProxyCall } from "../../proxy/call.ts";
import type { Forward } from "../../proxy/forward.ts";
import { derivedFileIds, namesDerivedFiles } from "./derived.ts";
import { accessOf } from "./object-path.ts";
import type { Owners } from "./owners.ts";
import { referencesIn, type Reference } from "./references.ts";

const MAX_EXTRA_PAGES = 10;
const CLAIM_SCAN_BYTES = 8192;

export function withOwnership(forward: Forward, owners: Owners): Forward {
  return async (call) => {
    const access = accessOf(call);
    const { admin, name } = call.client;
    if (!admin)
      await refuseOthers(call, access.kind === "object" ? [{ id: access.id, param: "id" }] : access.kind === "list" ? cursorsOf(call.query) : [], name, owners);
    if (access.kind === "none") return forward(call);
    if (access.kind === "object") {
      const forwarded = await forward(call);
      if (!forwarded.response.ok || !namesDerivedFiles(call)) return forwarded;
      return { response: await derivedClaimed(forwarded.response, access.id, admin ? undefined : name, owners), ended: forwarded.ended };
    }
    if (access.kind === "list" && admin) return forward(call);
    const forwarded = await forward(call);
    if (!forwarded.response.ok) return forwarded;
    const response = access.kind === "create" ? await claimed(forwarded.response, name, owners) : await filtered(forwarded.response, call, forward, owners);
    return { response, ended: forwarded.ended };
  };
}

/**
 * The object in the path and those the body names (references.ts) must all be `key`'s: the
 * first that is not is a 404 naming its field, as if it did not exist, and nothing goes upstream.
 */
async function refuseOthers(call: ProxyCall, inPath: Reference[], key: string, owners: Owners): Promise<void> {
  // only these take ids in their body: embeddings, images and audio calls are not read again
  const wanted = [...inPath, ...(call.operation.refersToObjects ? await referencesIn(call.body) : [])];
  if (wanted.length === 0) return;
  const owner = await owners.ownersOf([...new Set(wanted.map((r) => r.id))]);
  const foreign = wanted.find((r) => owner.get(r.id) !== key);
  if (!foreign) return;
  disposeBody(call.body);
  throw new Failure("not_found", `No such object: '${foreign.id}'.`, { param: foreign.param, code: "not_found" });
}

/** The answer as it is, once the files it names are claimed for the object's owner (`owner`, or looked up for an admin). */
async function derivedClaimed(response: Response, id: string, owner: string | undefined, owners: Owners): Promise<Response> {
  if (!(response.headers.get("content-type") ?? "").includes("json")) return response;
  const text = await response.text();
  const files = derivedFileIds(text);
  const key = files.length > 0 ? (owner ?? (await owners.ownersOf([id])).get(id)) : undefined;
  if (key !== undefined) for (const file of files) await claimSafely(owners, file, key);
  return rebuilt(response, text);
}

/**
 * A claim that fails (a worker's primary not answering, SQLite refusing the write) leaves the
 * object without an owner, for admin keys only; the client still gets the object it made, and
 * a rejection left to float would end the process (Bun and Deno exit on an unhandled one).
 */
async function claimSafely(owners: Owners, id: string, key: string): Promise<void> {
  try {
    await owners.claim(id, key);
  } catch {
    // no owner then: the object is for admin keys only (README "Object ownership")
  }
}

/**
 * A list's `after` / `before` cursor is an object of that list: another key's would page
 * through the collection from it (and tell by the answer whether it exists). The SDKs page
 * from the `last_id` of what they were given, which is always the caller's own.
 */
function cursorsOf(query: string): Reference[] {
  if (!query.includes("after=") && !query.includes("before=")) return [];
  const params = new URLSearchParams(query);
  return (["after", "before"] as const).flatMap((param) => {
    const id = params.get(param);
    return id ? [{ id, param }] : [];
  });
}

/** The created object's id, claimed for `key`: from the JSON body, or the first events of a stream. */
async function claimed(response: Response, key: string, owners: Owners): Promise<Response> {
  const type = response.headers.get("content-type") ?? "";
  if (type.includes("text/event-stream") && response.body) {
    let seen = "";
    let done = false;
    const decoder = new TextDecoder();
    const tap = new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        if (!done) {
          seen += decoder.decode(chunk, { stream: true });
          const id = /"id"\s*:\s*"([^"]+)"/.exec(seen)?.[1];
          if (id || seen.length > CLAIM_SCAN_BYTES) {
            done = true;
            if (id) void claimSafely(owners, id, key);
          }
        }
        controller.enqueue(chunk);
      },
    });
    return new Response(response.body.pipeThrough(tap), response);
  }
  if (!type.includes("json")) return response;
  const text = await response.text();
  const id = idOf(text);
  if (id) await claimSafely(owners, id, key);
  return rebuilt(response, text);
}

async function filtered(first: Response, call: ProxyCall, forward: Forward, owners: Owners): Promise<Response> {
  if (!(first.headers.get("content-type") ?? "").includes("json")) return first;
  let page = parse(await first.text());
  if (!page) return first;
  let kept = await ownedBy(page.data, call.client.name, owners);
  // an empty page while more follow would end a client's paging: look further ourselves
  for (let extra = 0; kept.length === 0 && page.has_more === true && call.body.kind === "none" && extra < MAX_EXTRA_PAGES; extra++) {
    const lastId = (page.data.at(-1) as { id?: unknown } | undefined)?.id;
    if (typeof lastId !== "string") break;
    const { response: next } = await forward({ ...call, query: withAfter(call.query, lastId) });
    if (!next.ok) break;
    const parsed = parse(await next.text());
    if (!parsed) break;
    page = parsed;
    kept = await ownedBy(page.data, call.client.name, owners);
  }
  const ids = kept.map((item) => (item as { id?: unknown }).id);
  const body = {
    ...page,
    data: kept,
    ...("first_id" in page ? { first_id: ids[0] ?? null } : {}),
    ...("last_id" in page ? { last_id: ids.at(-1) ?? null } : {}),
  };
  return rebuilt(first, JSON.stringify(body));
}

async function ownedBy(items: unknown[], key: string, owners: Owners): Promise<unknown[]> {
  const ids = items.map((item) => (item as { id?: unknown }).id).filter((id): id is string => typeof id === "string");
  const owner = await owners.ownersOf(ids);
  return items.filter((item) => owner.get((item as { id?: unknown }).id as string) === key);
}

type Page = { data: unknown[]; has_more?: unknown } & Record<string, unknown>;

function parse(text: string): Page | undefined {
  try {
    const value = JSON.parse(text) as Page;
    return Array.isArray(value?.data) ? value : undefined;
  } catch {
    return undefined;
  }
}

function idOf(text: string): string | undefined {
  try {
    const id = (JSON.parse(text) as { id?: unknown }).id;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}

function withAfter(query: string, after: string): string {
  const params = new URLSearchParams(query);
  params.set("after", after);
  return `?${params}`;
}

/** The same answer with a new body: the old length no longer holds. */
function rebuilt(response: Response, text: string): Response {
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  return new Response(text, { status: response.status, statusText: response.statusText, headers });
}
