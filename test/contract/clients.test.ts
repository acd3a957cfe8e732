/**
 * The client libraries people point at an OpenAI-compatible proxy, unchanged but for base URL
 * and key: the Vercel AI SDK and LangChain, streaming chat and embeddings.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createOpenAI } from "@ai-sdk/openai";
import { ChatOpenAI, OpenAIEmbeddings } from "@langchain/openai";
import { embed, embedMany, streamText } from "ai";
import { DEFAULT_REPLY } from "../../src/simulator/operations/chat.ts";
import { CLIENT_KEY, startStack, type Stack } from "../harness/fixture.ts";

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ AZURE_OPENAI_API_VERSION: "v1" });
});
afterAll(() => stack.stop());

describe("Vercel AI SDK (@ai-sdk/openai)", () => {
  const provider = () => createOpenAI({ baseURL: `${stack.proxy.url}/v1`, apiKey: CLIENT_KEY });

  test("streamText over chat completions", async () => {
    const result = streamText({ model: provider().chat("gpt-4o"), prompt: "Hello", maxRetries: 0 });
    let text = "";
    for await (const part of result.textStream) text += part;
    expect(text).toBe(DEFAULT_REPLY);
    expect((await result.usage).outputTokens).toBeGreaterThan(0);
  });

  test("streamText over the Responses API (the provider's default)", async () => {
    const result = streamText({ model: provider()("gpt-4o"), prompt: "Hello", maxRetries: 0 });
    let text = "";
    for await (const part of result.textStream) text += part;
    expect(text.length).toBeGreaterThan(0);
    expect(stack.sim.recorder.all().at(-1)!.path).toBe("/openai/v1/responses");
  });

  test("embed and embedMany", async () => {
    const one = await embed({ model: provider().embedding("text-embedding-3-small"), value: "hello", maxRetries: 0 });
    expect(one.embedding.length).toBeGreaterThan(0);
    const many = await embedMany({ model: provider().embedding("text-embedding-3-small"), values: ["a", "b", "c"], maxRetries: 0 });
    expect(many.embeddings).toHaveLength(3);
  });

  test("an Azure error reaches the SDK as an API error with its status and retry hint", async () => {
    // its own deployment: a 429 cools the deployment it came from
    const result = streamText({ model: provider().chat("gpt-4.1"), prompt: "[sim status=429 retry_after=1]", maxRetries: 0 });
    let error: { statusCode?: number; responseHeaders?: Record<string, string> } | undefined;
    for await (const part of result.fullStream) if (part.type === "error") error = part.error as typeof error;
    expect(error?.statusCode).toBe(429);
    expect(error?.responseHeaders?.["retry-after"]).toBe("1");
  });
});

describe("LangChain (@langchain/openai)", () => {
  test("ChatOpenAI streams", async () => {
    const chat = new ChatOpenAI({ model: "gpt-4o", apiKey: CLIENT_KEY, configuration: { baseURL: `${stack.proxy.url}/v1` }, maxRetries: 0 });
    let text = "";
    for await (const chunk of await chat.stream("Hello")) text += chunk.content;
    expect(text).toBe(DEFAULT_REPLY);
  });

  test("OpenAIEmbeddings embeds documents and a query", async () => {
    const embeddings = new OpenAIEmbeddings({
      model: "text-embedding-3-small",
      apiKey: CLIENT_KEY,
      configuration: { baseURL: `${stack.proxy.url}/v1` },
      maxRetries: 0,
    });
    const vectors = await embeddings.embedDocuments(["first document", "second document"]);
    expect(vectors).toHaveLength(2);
    expect(vectors[0]!.length).toBeGreaterThan(0);
    expect((await embeddings.embedQuery("a query")).length).toBeGreaterThan(0);
  });
});
