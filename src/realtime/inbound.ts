/**
 * What a Realtime upgrade asks for, read from the request alone: which of the three shapes
 * (the README's Realtime section), the model or deployment, the client key wherever it came from,
 * and the subprotocol to answer with. Browsers cannot set headers on a WebSocket, so OpenAI's
 * browser clients carry the key in the subprotocol `openai-insecure-api-key.K`; that protocol
 * is never selected (the answer would echo the key), `realtime` is.
 */
import { Failure } from "../lib/failure.ts";
import { proxySrcGroup } from "../lib/headers.ts";

export type RealtimeShape = "openai" | "azure-ga" | "azure-preview";

export interface RealtimeRequest {
  readonly shape: RealtimeShape;
  /** The model (OpenAI, Azure GA) or deployment (Azure preview) the client named. */
  readonly model: string;
  /** The client key, from a header, the query or the subprotocol; null when none came. */
  readonly key: string | null;
  /** The subprotocol to select, when the client offered `realtime`. */
  readonly protocol: string | undefined;
  /** The client's `OpenAI-Beta` header (for the preview path only). */
  readonly beta: string | null;
  readonly group: string | undefined;
}

const KEY_PROTOCOL = "openai-insecure-api-key.";

/** The shape of a Realtime path, or null when the path is none of them. */
export function realtimeShapeOf(pathname: string): RealtimeShape | null {
  if (pathname === "/v1/realtime") return "openai";
  if (pathname === "/openai/v1/realtime") return "azure-ga";
  if (pathname === "/openai/realtime") return "azure-preview";
  return null;
}

export function readRealtimeRequest(request: Request, url: URL, shape: RealtimeShape): RealtimeRequest {
  const offered = (request.headers.get("sec-websocket-protocol") ?? "")
    .split(",")
    .map((p) => p.trim())
    .filter(Boolean);
  const model = shape === "azure-preview" ? url.searchParams.get("deployment") : url.searchParams.get("model");
  if (!model) {
    const param = shape === "azure-preview" ? "deployment" : "model";
    throw new Failure("invalid_request", `Missing the '${param}' query parameter: say which ${param} the Realtime session uses.`, {
      param,
      code: "missing_required_parameter",
    });
  }
  if (shape === "azure-preview" && !url.searchParams.get("api-version")) {
    throw new Failure("invalid_request", "Missing the 'api-version' query parameter (for example 2025-04-01-preview).", {
      param: "api-version",
      code: "missing_required_parameter",
    });
  }
  return {
    shape,
    model,
    key: keyOf(request.headers, url, offered),
    protocol: protocolFor(offered),
    beta: request.headers.get("openai-beta"),
    group: proxySrcGroup(request.headers),
  };
}

/**
 * `realtime` when offered, else the first protocol that holds no key. A client that offered only
 * a key protocol is refused: clients fail a handshake whose answer selects none of what they
 * offered (ws: "Server sent no subprotocol"; Bun), and selecting it would echo the key.
 */
function protocolFor(offered: readonly string[]): string | undefined {
  if (offered.length === 0) return undefined;
  if (offered.includes("realtime")) return "realtime";
  const plain = offered.find((p) => !p.startsWith(KEY_PROTOCOL));
  if (plain) return plain;
  throw new Failure(
    "invalid_request",
    "Offer the 'realtime' WebSocket subprotocol beside 'openai-insecure-api-key.…': the proxy never selects a subprotocol that holds a key.",
    {
      param: "sec-websocket-protocol",
      code: "invalid_subprotocol",
    },
  );
}

function keyOf(headers: Headers, url: URL, offered: readonly string[]): string | null {
  const apiKey = headers.get("api-key");
  if (apiKey) return apiKey.trim();
  const bearer = /^Bearer\s+(.+)$/i.exec(headers.get("authorization")?.trim() ?? "");
  if (bearer) return bearer[1]!.trim();
  const query = url.searchParams.get("api-key");
  if (query) return query;
  const protocol = offered.find((p) => p.startsWith(KEY_PROTOCOL));
  return protocol ? protocol.slice(KEY_PROTOCOL.length) : null;
}

/** The path and a query without `api-key` (in any case: a mistyped name is still a key), safe to log. */
export function loggablePath(url: URL): string {
  const names = [...url.searchParams.keys()].filter((name) => name.toLowerCase() === "api-key");
  if (names.length === 0) return `${url.pathname}${url.search}`;
  const query = new URLSearchParams(url.searchParams);
  for (const name of names) query.set(name, "REDACTED");
  return `${url.pathname}?${query}`;
}
