/** A simulator plus a proxy configured in front of it: what most contract tests start from. */
import { startProxy, type RunningProxy } from "./proxy.ts";
import { startSimulator, type RunningSimulator } from "./simulator.ts";

export const CLIENT_KEY = "test-client-key-0123456789";

export interface Stack {
  readonly sim: RunningSimulator;
  readonly proxy: RunningProxy;
  stop(): Promise<void>;
}

export async function startStack(env: Record<string, string | undefined> = {}): Promise<Stack> {
  const sim = await startSimulator();
  const proxy = await startProxy({
    env: {
      AZURE_OPENAI_ENDPOINT: sim.url,
      AZURE_OPENAI_API_KEY: sim.key,
      AUTH_KEY: CLIENT_KEY,
      ...env,
    },
  });
  return {
    sim,
    proxy,
    async stop() {
      await proxy.stop();
      await sim.stop();
    },
  };
}

export function chatBody(content = "Hello!", extra: Record<string, unknown> = {}) {
  return { model: "gpt-4o", messages: [{ role: "user", content }], ...extra };
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { authorization: `Bearer ${CLIENT_KEY}`, "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
    signal,
  });
}
