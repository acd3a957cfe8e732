/** The Responses API: create (JSON and typed SSE), stored-response operations, faults. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DEFAULT_REPLY } from "../../src/simulator/operations/chat.ts";
import { expectRateLimited, PREVIEW, startSim, typedEvents, type Sim } from "./helpers.ts";

let sim: Sim;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.stop());

interface ResponseObject {
  id: string;
  object: string;
  status: string;
  model: string;
  background: boolean;
  output: Array<{ type: string; role: string; status: string; content: Array<{ type: string; text: string; annotations: unknown[] }> }>;
  usage: { input_tokens: number; output_tokens: number; total_tokens: number } | null;
}

const create = async (body: Record<string, unknown>, url = sim.v1("/responses")) => {
  const response = await sim.postJson(url, { model: "gpt-4o", ...body });
  return (await response.json()) as ResponseObject;
};

describe("create", () => {
  test("a response object: resp_ id, completed, the deployment as model, one output_text message, usage", async () => {
    for (const url of [sim.v1("/responses"), sim.dated("/responses", PREVIEW)]) {
      const body = await create({ input: "Say hi" }, url);
      expect(body.id).toStartWith("resp_");
      expect(body).toMatchObject({ object: "response", status: "completed", model: "gpt-4o", background: false });
      expect(body.output).toEqual([
        {
          id: expect.stringMatching(/^msg_/),
          type: "message",
          status: "completed",
          role: "assistant",
          content: [{ type: "output_text", annotations: [], text: DEFAULT_REPLY }],
        } as never,
      ]);
      expect(body.usage!.total_tokens).toBe(body.usage!.input_tokens + body.usage!.output_tokens);
    }
  });

  test("stream: typed events with sequence numbers, text deltas (multi-byte intact), no [DONE]", async () => {
    const response = await sim.postJson(sim.v1("/responses"), { model: "gpt-4o", input: "hi", stream: true });
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    const events = await typedEvents(response);
    const types = events.map((e) => e.event);
    expect(types.slice(0, 4)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]);
    expect(types.slice(-4)).toEqual(["response.output_text.done", "response.content_part.done", "response.output_item.done", "response.completed"]);
    const deltas = events.filter((e) => e.event === "response.output_text.delta");
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.map((e) => e.data.delta).join("")).toBe(DEFAULT_REPLY);
    for (const [i, e] of events.entries()) expect(e.data).toMatchObject({ type: e.event, sequence_number: i });
    expect((events.at(-1)!.data.response as ResponseObject).status).toBe("completed");
    expect(types).not.toContain("[DONE]");
  });

  test("[sim error_after=3] sends an error event; [sim reset_after=4] cuts the connection", async () => {
    const errored = await typedEvents(await sim.postJson(sim.v1("/responses"), { model: "gpt-4o", input: "[sim error_after=3]", stream: true }));
    expect(errored.map((e) => e.event)).toEqual(["response.created", "response.in_progress", "response.output_item.added", "error"]);
    expect(errored[3]!.data).toMatchObject({ type: "error", sequence_number: 3, code: "server_error" });
    const cut = await sim.postJson(sim.v1("/responses"), { model: "gpt-4o", input: "[sim reset_after=4]", stream: true });
    expect(
      await cut.text().then(
        () => "ended",
        () => "cut",
      ),
    ).toBe("cut");
  });

  test("[sim filter=output] → status incomplete, reason content_filter; 429 names Responses_Create", async () => {
    const body = (await create({ input: "[sim filter=output]" })) as ResponseObject & { incomplete_details: unknown };
    expect(body.status).toBe("incomplete");
    expect(body.incomplete_details).toEqual({ reason: "content_filter" });
    await expectRateLimited(
      await sim.postJson(sim.v1("/responses"), { model: "gpt-4o", input: "[sim status=429 retry_after=3]" }),
      "Responses_Create",
      3,
      expect,
    );
  });

  test("bad input is 400; an unknown deployment 404", async () => {
    expect((await sim.postJson(sim.v1("/responses"), { model: "gpt-4o", input: 42 })).status).toBe(400);
    expect((await sim.postJson(sim.v1("/responses"), { model: "nope", input: "x" })).status).toBe(404);
  });
});

describe("stored responses", () => {
  test("GET returns it; input_items lists the input messages; DELETE removes it; then 404", async () => {
    const created = await create({
      input: [
        { role: "system", content: "Be brief." },
        { role: "user", content: "Hi" },
      ],
    });
    const got = (await (await sim.get(sim.v1(`/responses/${created.id}`))).json()) as ResponseObject;
    expect(got).toEqual(created);
    const dated = await sim.get(sim.dated(`/responses/${created.id}`, PREVIEW));
    expect(dated.status).toBe(200);
    const items = (await (await sim.get(sim.v1(`/responses/${created.id}/input_items`, "?order=asc"))).json()) as {
      object: string;
      data: Array<Record<string, unknown>>;
      has_more: boolean;
    };
    expect(items.object).toBe("list");
    expect(items.has_more).toBe(false);
    expect(items.data.map((i) => [i.type, i.role, i.content])).toEqual([
      ["message", "system", [{ type: "input_text", text: "Be brief." }]],
      ["message", "user", [{ type: "input_text", text: "Hi" }]],
    ]);
    const deleted = await sim.del(sim.v1(`/responses/${created.id}`));
    expect(await deleted.json()).toEqual({ id: created.id, object: "response.deleted", deleted: true });
    expect((await sim.get(sim.v1(`/responses/${created.id}`))).status).toBe(404);
    expect((await sim.get(sim.v1("/responses/resp_unknown/input_items"))).status).toBe(404);
  });

  test("store: false is not kept; a streamed response is", async () => {
    const unstored = await create({ input: "x", store: false });
    expect((await sim.get(sim.v1(`/responses/${unstored.id}`))).status).toBe(404);
    const events = await typedEvents(await sim.postJson(sim.v1("/responses"), { model: "gpt-4o", input: "x", stream: true }));
    const id = (events[0]!.data.response as ResponseObject).id;
    expect(((await (await sim.get(sim.v1(`/responses/${id}`))).json()) as ResponseObject).status).toBe("completed");
  });

  test("cancel: only background responses; a queued one becomes cancelled, a finished one is unchanged", async () => {
    const foreground = await create({ input: "x" });
    const refused = await sim.postJson(sim.v1(`/responses/${foreground.id}/cancel`), "");
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toBe("Cannot cancel a synchronous response.");

    const queued = await create({ input: "x [sim background_ms=60000]", background: true });
    expect(queued).toMatchObject({ status: "queued", background: true, output: [] });
    const cancelled = (await (await sim.postJson(sim.v1(`/responses/${queued.id}/cancel`), "")).json()) as ResponseObject;
    expect(cancelled.status).toBe("cancelled");

    const quick = await create({ input: "x [sim background_ms=20]", background: true });
    await Bun.sleep(40);
    const finished = (await (await sim.get(sim.v1(`/responses/${quick.id}`))).json()) as ResponseObject;
    expect(finished.status).toBe("completed");
    expect(finished.output[0]!.content[0]!.text).toBe(DEFAULT_REPLY);
    expect(((await (await sim.postJson(sim.v1(`/responses/${quick.id}/cancel`), "")).json()) as ResponseObject).status).toBe("completed");
    expect((await sim.postJson(sim.v1("/responses/resp_nope/cancel"), "")).status).toBe(404);
  });
});
