/**
 * The ownership gate when the owners' store fails to take a claim (the primary does not answer
 * a worker, SQLite refuses the write): the object was made upstream, so its answer still
 * reaches the client whole, and a failed claim never becomes an unhandled rejection, which
 * ends a Bun or Deno process and every call it serves.
 */
import { expect, test } from "bun:test";
import type { ProxyCall } from "../../proxy/call.ts";
import { RESPONSES } from "../../proxy/operations.ts";
import { withOwnership } from "./gate.ts";
import type { Owners } from "./owners.ts";

const failing: Owners = {
  ownersOf: async () => new Map(),
  claim: () => Promise.reject(new Error("the primary did not answer in 5000 ms")),
};

const call = {
  operation: RESPONSES,
  method: "POST",
  params: {},
  query: "",
  body: { kind: "json", text: '{"model":"gpt-4o","input":"hi"}' },
  client: { name: "alice", admin: false, models: null, limits: {} },
} as unknown as ProxyCall;

/** A few turns of the event loop, no time passing: a rejection nobody handles is reported by then. */
const settle = async () => {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
};

test("a streamed create whose claim fails still streams every event, and nothing is left unhandled", async () => {
  const events =
    'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_1"}}\n\nevent: response.completed\ndata: {"type":"response.completed"}\n\n';
  const forward = async () => ({ response: new Response(events, { headers: { "content-type": "text/event-stream" } }), ended: undefined });
  const { response } = await withOwnership(forward, failing)(call);
  expect(await response.text()).toBe(events);
  await settle();
});

test("a JSON create whose claim fails still answers with the object", async () => {
  const body = '{"id":"resp_2","object":"response"}';
  const forward = async () => ({ response: new Response(body, { headers: { "content-type": "application/json" } }), ended: undefined });
  const { response } = await withOwnership(forward, failing)(call);
  expect(response.status).toBe(200);
  expect(await response.text()).toBe(body);
  await settle();
});
