/** Talking to the simulator directly, over a real socket, the way Azure clients do. */
import { createHash } from "node:crypto";
import { startSimulator, type RunningSimulator } from "../harness/simulator.ts";

export const GA = "2024-10-21";
export const PREVIEW = "2025-04-01-preview";

export interface Sim extends RunningSimulator {
  /** `/openai/deployments/{d}{op}?api-version=` */
  scoped(deployment: string, op: string, version?: string): string;
  /** `/openai{op}?api-version=` */
  dated(op: string, version?: string): string;
  /** `/openai/v1{op}` */
  v1(op: string, query?: string): string;
  postJson(url: string, body: unknown, headers?: Record<string, string>): Promise<Response>;
  postForm(url: string, form: FormData, headers?: Record<string, string>): Promise<Response>;
  get(url: string, headers?: Record<string, string>): Promise<Response>;
  del(url: string, headers?: Record<string, string>): Promise<Response>;
  last(): ReturnType<RunningSimulator["recorder"]["all"]>[number];
}

export async function startSim(): Promise<Sim> {
  const sim = await startSimulator();
  const auth = (headers: Record<string, string> = {}) => ({ "api-key": sim.key, ...headers });
  return Object.assign(sim, {
    scoped: (d: string, op: string, version = GA) => `${sim.url}/openai/deployments/${encodeURIComponent(d)}${op}?api-version=${version}`,
    dated: (op: string, version = GA) => `${sim.url}/openai${op}?api-version=${version}`,
    v1: (op: string, query = "") => `${sim.url}/openai/v1${op}${query}`,
    postJson: (url: string, body: unknown, headers?: Record<string, string>) =>
      fetch(url, {
        method: "POST",
        headers: auth({ "content-type": "application/json", ...headers }),
        body: typeof body === "string" ? body : JSON.stringify(body),
      }),
    postForm: (url: string, form: FormData, headers?: Record<string, string>) => fetch(url, { method: "POST", headers: auth(headers), body: form }),
    get: (url: string, headers?: Record<string, string>) => fetch(url, { headers: auth(headers) }),
    del: (url: string, headers?: Record<string, string>) => fetch(url, { method: "DELETE", headers: auth(headers) }),
    last: () => sim.recorder.all().at(-1)!,
  });
}

export const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** Deterministic bytes that are not valid UTF-8, to catch any text decoding on the way. */
export function binary(size: number): Uint8Array<ArrayBuffer> {
  return new Uint8Array(size).map((_, i) => (i * 151 + 7) % 256);
}

/** Typed SSE events (`event:` + `data:`) of a Responses stream. */
export async function typedEvents(response: Response): Promise<Array<{ event: string; data: Record<string, unknown> }>> {
  const text = await response.text();
  return text
    .split("\n\n")
    .filter((block) => block.trim() !== "")
    .map((block) => {
      const event = /^event: (.+)$/m.exec(block)?.[1] ?? "";
      const data = JSON.parse(/^data: (.+)$/m.exec(block)?.[1] ?? "null") as Record<string, unknown>;
      return { event, data };
    });
}

/** The 429 a `[sim status=429 retry_after=S]` directive produces, for any operation. */
export async function expectRateLimited(response: Response, operation: string, seconds: number, expect: typeof import("bun:test").expect) {
  expect(response.status).toBe(429);
  expect(response.headers.get("retry-after")).toBe(String(seconds));
  expect(response.headers.get("retry-after-ms")).toBe(String(seconds * 1000));
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe("429");
  expect(body.error.message).toContain(`Requests to the ${operation} Operation`);
}
