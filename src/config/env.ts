/** Parsing helpers for environment values; load.ts validates and combines them. */

/** Accept what people paste: trailing slashes and the `/openai` or `/openai/v1` suffix. */
export function normaliseEndpoint(raw: string): string | Error {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return new Error("is not a valid URL");
  }
  if (url.username || url.password) return new Error("must not contain credentials");
  if (url.search || url.hash) return new Error("must not contain a query or fragment");
  const path = url.pathname.replace(/\/+$/, "").replace(/\/openai(\/v1)?$/, "");
  if (path !== "") return new Error(`must be the resource base URL without a path (found "${path}")`);
  return `${url.protocol}//${url.host}`;
}

/** "a=b, c=d" → { a: "b", c: "d" } */
export function parseModelMap(text: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of text.split(",")) {
    const [model, deployment] = pair.split("=").map((s) => s.trim());
    if (model && deployment) map[model] = deployment;
  }
  return map;
}

/** "a, b,,c" → ["a", "b", "c"] */
export function parseList(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
}
