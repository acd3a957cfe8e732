/**
 * The rules every operation shares: URL styles and api-versions (docs/azure.md §1.2-1.4),
 * auth (§2), DeploymentNotFound, OperationNotSupported (§4.3), model version gating (§1.5).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { AZURE_BODIES } from "../../src/simulator/azure-errors.ts";
import { OPERATIONS } from "../../src/simulator/app.ts";
import { GA, PREVIEW, startSim, type Sim } from "./helpers.ts";

let sim: Sim;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.stop());

const chat = { messages: [{ role: "user", content: "hi" }] };

describe("api-version", () => {
  test("dated routes need a dated api-version, else 404 Resource not found", async () => {
    for (const url of [
      `${sim.url}/openai/deployments/gpt-4o/chat/completions`,
      sim.scoped("gpt-4o", "/chat/completions", "latest"),
      `${sim.url}/openai/files`,
    ]) {
      const response = await (url.endsWith("/files") ? sim.get(url) : sim.postJson(url, chat));
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual(AZURE_BODIES.resourceNotFound);
    }
  });

  test("v1 takes no api-version, v1 or preview; anything else is 400 API version not supported", async () => {
    for (const query of ["", "?api-version=v1", "?api-version=preview"]) {
      expect((await sim.postJson(sim.v1("/embeddings", query), { model: "text-embedding-3-small", input: "x" })).status).toBe(200);
    }
    const response = await sim.postJson(sim.v1("/responses", `?api-version=${PREVIEW}`), { model: "gpt-4o", input: "x" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { code: "BadRequest", message: "API version not supported" } });
  });

  test("preview-only operations are 404 on GA dated versions", async () => {
    expect((await sim.postJson(sim.scoped("tts", "/audio/speech", GA), { input: "x", voice: "alloy" })).status).toBe(404);
    expect((await sim.postJson(sim.scoped("tts", "/audio/speech", PREVIEW), { input: "x", voice: "alloy" })).status).toBe(200);
    expect((await sim.postForm(sim.scoped("gpt-image-1", "/images/edits", GA), new FormData())).status).toBe(404);
  });

  test("the dated Responses API exists from 2025-03-01-preview on", async () => {
    for (const [version, status] of [
      [GA, 404],
      ["2024-12-01-preview", 404],
      ["2025-03-01-preview", 200],
      [PREVIEW, 200],
    ] as const) {
      expect((await sim.postJson(sim.dated("/responses", version), { model: "gpt-4o", input: "hi" })).status).toBe(status);
    }
  });

  test("deployment-scoped paths under v1, and unknown paths or methods, are 404", async () => {
    expect((await sim.postJson(sim.v1("/deployments/gpt-4o/chat/completions"), chat)).status).toBe(404);
    expect((await sim.postJson(sim.dated("/chat/completions"), chat)).status).toBe(404);
    expect((await sim.get(sim.scoped("gpt-4o", "/chat/completions"))).status).toBe(404);
    expect((await sim.del(sim.v1("/files"))).status).toBe(404);
    expect((await sim.get(`${sim.url}/nothing`)).status).toBe(404);
  });
});

describe("auth", () => {
  test("api-key works on both styles; a wrong key is Azure's 401", async () => {
    const bad = await sim.postJson(sim.scoped("gpt-4o", "/chat/completions"), chat, { "api-key": "wrong" });
    expect(bad.status).toBe(401);
    expect(await bad.json()).toEqual(AZURE_BODIES.unauthorized);
    expect((await sim.get(sim.v1("/models"), { "api-key": "wrong" })).status).toBe(401);
  });

  test("Authorization: Bearer <key> is accepted on v1 only", async () => {
    const bearer = { authorization: `Bearer ${sim.key}` };
    const noKey = (url: string) => fetch(url, { headers: bearer });
    expect((await noKey(sim.v1("/models"))).status).toBe(200);
    expect((await noKey(sim.dated("/models"))).status).toBe(401);
    const form = new FormData();
    form.set("model", "whisper");
    form.set("file", new File([new Uint8Array(100)], "a.wav"));
    expect((await fetch(sim.v1("/audio/transcriptions"), { method: "POST", headers: bearer, body: form })).status).toBe(200);
  });
});

describe("deployments and models", () => {
  test("an unknown deployment is 404 DeploymentNotFound, from the path or from model", async () => {
    const scoped = await sim.postJson(sim.scoped("nope", "/embeddings"), { input: "x" });
    expect(scoped.status).toBe(404);
    expect(((await scoped.json()) as { error: { code: string } }).error.code).toBe("DeploymentNotFound");
    const form = new FormData();
    form.set("model", "nope");
    form.set("file", new File(["x"], "a.wav"));
    expect((await sim.postForm(sim.v1("/audio/transcriptions"), form)).status).toBe(404);
    expect((await sim.postJson(sim.v1("/embeddings"), { input: "x" })).status).toBe(400);
  });

  test("a model used for an operation it cannot do is Azure's 400 OperationNotSupported", async () => {
    const response = await sim.postJson(sim.scoped("gpt-4o", "/completions"), { prompt: "hi" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: {
        code: "OperationNotSupported",
        message:
          "The completion operation does not work with the specified model, gpt-4o. Please choose different model and try again. You can learn more about which models can be used with each operation here: https://go.microsoft.com/fwlink/?linkid=2197993.",
      },
    });
    const cases: Array<[string, string, unknown, string]> = [
      ["text-embedding-3-small", "/chat/completions", chat, "chatCompletion"],
      ["gpt-4o", "/embeddings", { input: "x" }, "embeddings"],
      ["gpt-35-turbo-instruct", "/images/generations", { prompt: "x" }, "imageGenerations"],
      ["dall-e-3", "/audio/speech", { input: "x", voice: "alloy" }, "speech"],
    ];
    for (const [deployment, op, body, name] of cases) {
      const refused = await sim.postJson(sim.scoped(deployment, op, PREVIEW), body);
      expect(refused.status).toBe(400);
      expect(((await refused.json()) as { error: { message: string } }).error.message).toStartWith(`The ${name} operation does not work`);
    }
    expect((await sim.postJson(sim.v1("/responses"), { model: "whisper", input: "x" })).status).toBe(400);
  });

  test("models newer than the dated api-version are refused like Azure gates o3-mini (§1.5)", async () => {
    const response = await sim.postJson(sim.scoped("gpt-image-1", "/images/generations", GA), { prompt: "x" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { code: "BadRequest", message: "Model gpt-image-1 is enabled only for api versions 2025-04-01-preview and later" },
    });
  });

  test("the deployment is echoed in x-ms-deployment-name", async () => {
    const response = await sim.postJson(sim.v1("/embeddings"), { model: "text-embedding-ada-002", input: "x" });
    expect(response.headers.get("x-ms-deployment-name")).toBe("text-embedding-ada-002");
    expect(response.headers.get("apim-request-id")).toBeTruthy();
  });
});

test("the OPERATIONS table: every row names its Azure operation and has a style", () => {
  for (const row of OPERATIONS) {
    expect(row.azureName).toMatch(/^[A-Za-z]+_[A-Za-z]+$/);
    expect(row.scoped ?? row.dated ?? row.v1).toBeDefined();
  }
});
