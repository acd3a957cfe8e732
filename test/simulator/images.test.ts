/** Images, docs/azure.md §7: dall-e-3 and gpt-image-1 generations, gpt-image-1 edits. */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { binary, expectRateLimited, GA, PREVIEW, sha256, startSim, type Sim } from "./helpers.ts";

let sim: Sim;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.stop());

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const decode = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));

test("dall-e-3: url, revised_prompt, a per-image prompt_filter_results OBJECT, content_filter_results", async () => {
  const response = await sim.postJson(sim.scoped("dall-e-3", "/images/generations", GA), { prompt: "Clippy in a cowboy hat", n: 1 });
  expect(response.status).toBe(200);
  const body = (await response.json()) as { created: number; data: Array<Record<string, unknown>> };
  expect(body.created).toBeGreaterThan(1_600_000_000);
  expect(body.data).toHaveLength(1);
  const image = body.data[0]!;
  expect(Object.keys(image)).toEqual(["revised_prompt", "prompt_filter_results", "url", "content_filter_results"]);
  expect(Array.isArray(image.prompt_filter_results)).toBe(false);
  expect(image.prompt_filter_results).toMatchObject({ hate: { filtered: false, severity: "safe" }, profanity: { detected: false, filtered: false } });
  expect(image.content_filter_results).toMatchObject({ sexual: { filtered: false, severity: "safe" } });
  const png = new Uint8Array(await (await fetch(image.url as string)).arrayBuffer());
  expect([...png.subarray(0, 8)]).toEqual(PNG_MAGIC);
});

test("dall-e-3 with response_format b64_json; n above 1 refused", async () => {
  const body = (await (await sim.postJson(sim.scoped("dall-e-3", "/images/generations"), { prompt: "x", response_format: "b64_json" })).json()) as {
    data: Array<{ b64_json: string; url?: string }>;
  };
  expect([...decode(body.data[0]!.b64_json).subarray(0, 8)]).toEqual(PNG_MAGIC);
  expect(body.data[0]!.url).toBeUndefined();
  expect((await sim.postJson(sim.scoped("dall-e-3", "/images/generations"), { prompt: "x", n: 2 })).status).toBe(400);
});

test("gpt-image-1: data[{b64_json}] (a valid PNG), n images; response_format is refused", async () => {
  for (const url of [sim.scoped("gpt-image-1", "/images/generations", PREVIEW), sim.v1("/images/generations", "?api-version=preview")]) {
    const response = await sim.postJson(url, { model: "gpt-image-1", prompt: "a cat", n: 2, size: "1024x1024" });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { created: number; data: Array<{ b64_json: string }> };
    expect(body.data).toHaveLength(2);
    expect(Object.keys(body.data[0]!)).toEqual(["b64_json"]);
    expect([...decode(body.data[0]!.b64_json).subarray(0, 8)]).toEqual(PNG_MAGIC);
  }
  const refused = await sim.postJson(sim.v1("/images/generations"), { model: "gpt-image-1", prompt: "x", response_format: "url" });
  expect(refused.status).toBe(400);
  expect(((await refused.json()) as { error: { param: string } }).error.param).toBe("response_format");
});

test("edits: multipart image[] + prompt (+ mask) → b64_json; files are recorded by hash", async () => {
  const image = binary(3000);
  const mask = binary(1000);
  const form = new FormData();
  form.append("image[]", new File([image], "in.png", { type: "image/png" }));
  form.append("image[]", new File([binary(10)], "second.png", { type: "image/png" }));
  form.set("mask", new File([mask], "mask.png", { type: "image/png" }));
  form.set("prompt", "add a hat");
  const response = await sim.postForm(sim.scoped("gpt-image-1", "/images/edits", PREVIEW), form);
  expect(response.status).toBe(200);
  const body = (await response.json()) as { data: Array<{ b64_json: string }> };
  expect([...decode(body.data[0]!.b64_json).subarray(0, 8)]).toEqual(PNG_MAGIC);
  const seen = sim.last();
  expect(seen.fields).toEqual({ prompt: "add a hat" });
  expect(seen.files!.map((f) => [f.name, f.filename, f.size, f.sha256, f.contentType])).toEqual([
    ["image[]", "in.png", 3000, sha256(image), "image/png"],
    ["image[]", "second.png", 10, sha256(binary(10)), "image/png"],
    ["mask", "mask.png", 1000, sha256(mask), "image/png"],
  ]);
});

test("edits: v1 takes model from the form; a missing image is 400; dall-e-3 cannot edit", async () => {
  const form = (model: string, withImage = true) => {
    const f = new FormData();
    f.set("model", model);
    f.set("prompt", "x");
    if (withImage) f.set("image", new File([binary(50)], "a.png", { type: "image/png" }));
    return f;
  };
  expect((await sim.postForm(sim.v1("/images/edits"), form("gpt-image-1"))).status).toBe(200);
  expect((await sim.postForm(sim.v1("/images/edits"), form("gpt-image-1", false))).status).toBe(400);
  const refused = await sim.postForm(sim.v1("/images/edits"), form("dall-e-3"));
  expect(((await refused.json()) as { error: { code: string } }).error.code).toBe("OperationNotSupported");
});

test("faults: 429 names ImageGenerations_Create; filter=prompt is the image filter body, also in a multipart prompt", async () => {
  await expectRateLimited(
    await sim.postJson(sim.scoped("dall-e-3", "/images/generations"), { prompt: "[sim status=429 retry_after=4]" }),
    "ImageGenerations_Create",
    4,
    expect,
  );
  const filtered = await sim.postJson(sim.scoped("dall-e-3", "/images/generations"), { prompt: "[sim filter=prompt]" });
  expect(filtered.status).toBe(400);
  expect(await filtered.json()).toMatchObject({ error: { code: "contentFilter", message: "Your task failed as a result of our safety system." } });
  const form = new FormData();
  form.set("image", new File([binary(50)], "a.png"));
  form.set("prompt", "[sim status=429 retry_after=1]");
  await expectRateLimited(await sim.postForm(sim.scoped("gpt-image-1", "/images/edits", PREVIEW), form), "ImageEdits_Create", 1, expect);
});
