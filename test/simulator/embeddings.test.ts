/** Embeddings, docs/azure.md §7: input kinds, base64, dimensions, usage, Azure's refusals. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { expectRateLimited, startSim, type Sim } from "./helpers.ts";

let sim: Sim;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.stop());

interface Embeddings {
  object: string;
  model: string;
  data: Array<{ object: string; index: number; embedding: number[] | string }>;
  usage: { prompt_tokens: number; total_tokens: number };
}

const embed = async (body: Record<string, unknown>, deployment = "text-embedding-3-small") => {
  const response = await sim.postJson(sim.scoped(deployment, "/embeddings"), body);
  return { status: response.status, body: (await response.json()) as Embeddings & { error?: { message: string } } };
};

test("a string: one 1536-float unit vector, object list, the model, usage", async () => {
  const { status, body } = await embed({ input: "this is a test" });
  expect(status).toBe(200);
  expect(body.object).toBe("list");
  expect(body.model).toBe("text-embedding-3-small");
  expect(body.data).toHaveLength(1);
  expect(body.data[0]).toMatchObject({ object: "embedding", index: 0 });
  const vector = body.data[0]!.embedding as number[];
  expect(vector).toHaveLength(1536);
  expect(Math.abs(Math.hypot(...vector) - 1)).toBeLessThan(1e-3);
  expect(body.usage.prompt_tokens).toBe(body.usage.total_tokens);
  expect(body.usage.prompt_tokens).toBeGreaterThan(0);
});

test("strings, token ids and lists of token ids; vectors are deterministic per input", async () => {
  const strings = await embed({ input: ["a", "b", "a"] });
  expect(strings.body.data.map((d) => d.index)).toEqual([0, 1, 2]);
  expect(strings.body.data[0]!.embedding).toEqual(strings.body.data[2]!.embedding);
  expect(strings.body.data[0]!.embedding).not.toEqual(strings.body.data[1]!.embedding);
  const ids = await embed({ input: [1, 2, 3] });
  expect(ids.body.data).toHaveLength(1);
  expect(ids.body.usage.prompt_tokens).toBe(3);
  const lists = await embed({
    input: [
      [1, 2],
      [3, 4, 5],
    ],
  });
  expect(lists.body.data).toHaveLength(2);
  expect(lists.body.usage.prompt_tokens).toBe(5);
});

test("encoding_format base64 is the little-endian float32 bytes of the same vector", async () => {
  const float = await embed({ input: "x", dimensions: 4 });
  const b64 = await embed({ input: "x", dimensions: 4, encoding_format: "base64" });
  const bytes = Uint8Array.from(atob(b64.body.data[0]!.embedding as string), (c) => c.charCodeAt(0));
  expect(bytes.length).toBe(16);
  const view = new DataView(bytes.buffer);
  const decoded = [0, 1, 2, 3].map((i) => view.getFloat32(i * 4, true));
  expect(decoded).toEqual(float.body.data[0]!.embedding as number[]);
});

test("dimensions sets the length on text-embedding-3; ada-002 refuses it like Azure", async () => {
  expect(((await embed({ input: "x", dimensions: 256 })).body.data[0]!.embedding as number[]).length).toBe(256);
  const ada = await embed({ input: "x", dimensions: 256 }, "text-embedding-ada-002");
  expect(ada.status).toBe(400);
  expect(ada.body).toEqual({
    error: { message: "This model does not support specifying dimensions.", type: "invalid_request_error", param: null, code: null },
  } as never);
  expect((await embed({ input: "x" }, "text-embedding-ada-002")).status).toBe(200);
});

test("an empty string (alone or in a list) is Azure's 400 '$.input' is invalid", async () => {
  for (const input of ["", ["ok", ""], [], null]) {
    const { status, body } = await embed({ input });
    expect(status).toBe(400);
    expect(body.error!.message).toStartWith("'$.input' is invalid.");
  }
});

test("v1 takes the deployment from model; [sim status=429] names Embeddings_Create", async () => {
  const ok = await sim.postJson(sim.v1("/embeddings"), { model: "text-embedding-3-small", input: "x" });
  expect(ok.status).toBe(200);
  const limited = await sim.postJson(sim.v1("/embeddings"), { model: "text-embedding-3-small", input: "[sim status=429 retry_after=3]" });
  await expectRateLimited(limited, "Embeddings_Create", 3, expect);
});
