/** Models (§4.4), vector stores and fine-tuning jobs (§1.3, §1.4). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DEFAULT_DEPLOYMENTS } from "../../src/simulator/app.ts";
import { expectRateLimited, startSim, type Sim } from "./helpers.ts";

let sim: Sim;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.stop());

describe("models", () => {
  test("dated: Azure-shaped (created_at, capabilities, lifecycle_status, deprecation; no owned_by)", async () => {
    const body = (await (await sim.get(sim.dated("/models"))).json()) as { object: string; data: Array<Record<string, unknown>> };
    expect(body.object).toBe("list");
    expect(body.data.map((m) => m.id).sort()).toEqual([...new Set(Object.values(DEFAULT_DEPLOYMENTS))].sort());
    for (const model of body.data) {
      expect(Object.keys(model)).toEqual(["status", "capabilities", "lifecycle_status", "deprecation", "id", "created_at", "object"]);
      expect(model.owned_by).toBeUndefined();
    }
    const gpt = body.data.find((m) => m.id === "gpt-4o-2024-11-20")!;
    expect(gpt).toMatchObject({
      status: "succeeded",
      object: "model",
      capabilities: { chat_completion: true, completion: false, embeddings: false, inference: true },
    });
    expect(gpt.created_at).toBe(Date.parse("2024-11-20T00:00:00Z") / 1000);
    expect(body.data.find((m) => m.id === "text-embedding-3-small")!.capabilities).toMatchObject({ embeddings: true });
  });

  test("v1: OpenAI's list shape; retrieve one; an unknown id is 404", async () => {
    const body = (await (await sim.get(sim.v1("/models"))).json()) as { object: string; data: Array<Record<string, unknown>> };
    expect(body.object).toBe("list");
    expect(body.data[0]).toEqual({ id: expect.any(String), object: "model", created: expect.any(Number), owned_by: "system" } as never);
    const one = (await (await sim.get(sim.v1("/models/gpt-4o-2024-11-20"))).json()) as Record<string, unknown>;
    expect(one.id).toBe("gpt-4o-2024-11-20");
    expect(((await (await sim.get(sim.dated("/models/gpt-4o-2024-11-20"))).json()) as Record<string, unknown>).created_at).toBeNumber();
    expect((await sim.get(sim.v1("/models/nope"))).status).toBe(404);
  });
});

describe("vector stores (v1 only)", () => {
  test("create, get, list, delete, then 404; not on the dated API", async () => {
    const created = (await (
      await sim.postJson(sim.v1("/vector_stores"), { name: "docs", file_ids: ["file-1", "file-2"], metadata: { a: "b" } })
    ).json()) as Record<string, unknown> & { id: string };
    expect(created).toMatchObject({ object: "vector_store", name: "docs", status: "completed", file_counts: { completed: 2, total: 2 }, metadata: { a: "b" } });
    expect(created.id).toStartWith("vs_");
    expect(await (await sim.get(sim.v1(`/vector_stores/${created.id}`))).json()).toEqual(created);
    const list = (await (await sim.get(sim.v1("/vector_stores"))).json()) as { object: string; data: Array<{ id: string }>; first_id: string };
    expect(list.first_id).toBe(created.id);
    expect(await (await sim.del(sim.v1(`/vector_stores/${created.id}`))).json()).toEqual({ id: created.id, object: "vector_store.deleted", deleted: true });
    expect((await sim.get(sim.v1(`/vector_stores/${created.id}`))).status).toBe(404);
    expect((await sim.del(sim.v1(`/vector_stores/${created.id}`))).status).toBe(404);
    expect((await sim.get(sim.dated("/vector_stores"))).status).toBe(404);
  });

  test("[sim status=429] names VectorStores_Create", async () => {
    await expectRateLimited(await sim.postJson(sim.v1("/vector_stores"), { name: "[sim status=429 retry_after=1]" }), "VectorStores_Create", 1, expect);
  });
});

describe("fine-tuning jobs", () => {
  test("dated create: 201 + Location, pending, n_epochs -1 as in the spec example; get; list", async () => {
    const response = await sim.postJson(sim.dated("/fine_tuning/jobs"), { model: "gpt-4o-mini-2024-07-18", training_file: "file-abc" });
    expect(response.status).toBe(201);
    const job = (await response.json()) as Record<string, unknown> & { id: string };
    expect(job).toMatchObject({
      object: "fine_tuning.job",
      status: "pending",
      model: "gpt-4o-mini-2024-07-18",
      training_file: "file-abc",
      hyperparameters: { n_epochs: -1 },
    });
    expect(job.id).toMatch(/^ftjob-[0-9a-f]{32}$/);
    expect(response.headers.get("location")).toBe(`${sim.url}/openai/fine_tuning/jobs/${job.id}`);
    expect(await (await sim.get(sim.v1(`/fine_tuning/jobs/${job.id}`))).json()).toEqual(job);
    const list = (await (await sim.get(sim.v1("/fine_tuning/jobs"))).json()) as { data: Array<{ id: string }> };
    expect(list.data[0]!.id).toBe(job.id);
  });

  test("v1 create answers 200; missing fields 400; unknown id 404; 429 names FineTuning_Create", async () => {
    const response = await sim.postJson(sim.v1("/fine_tuning/jobs"), { model: "gpt-4o-mini-2024-07-18", training_file: "file-abc" });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { hyperparameters: unknown }).hyperparameters).toEqual({
      n_epochs: "auto",
      batch_size: "auto",
      learning_rate_multiplier: "auto",
    });
    expect((await sim.postJson(sim.v1("/fine_tuning/jobs"), { model: "x" })).status).toBe(400);
    expect((await sim.get(sim.v1("/fine_tuning/jobs/ftjob-nope"))).status).toBe(404);
    await expectRateLimited(
      await sim.postJson(sim.v1("/fine_tuning/jobs"), { model: "x", training_file: "[sim status=429 retry_after=2]" }),
      "FineTuning_Create",
      2,
      expect,
    );
  });
});
