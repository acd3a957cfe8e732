/** One client request to relay, as plain values: what the route module hands to `forward`. */
import type { Client } from "../config/client.ts";
import type { Spool } from "../lib/spool.ts";
import type { CallObserver } from "./observer.ts";
import type { Operation } from "./operations.ts";

/** The request body as the client sent it, in the form the proxy keeps it. */
export type CallBody =
  | { readonly kind: "json"; readonly text: string }
  | {
      readonly kind: "multipart";
      readonly spool: Spool;
      readonly contentType: string;
      /** Where the `model` field's value stands in the body, for the v1 API's rewrite. */
      readonly modelRange: readonly [number, number] | null;
      /** Where the last part's content ends (the closing delimiter starts): a missing `model` goes here. */
      readonly partsEnd: number;
    }
  | { readonly kind: "raw"; readonly spool: Spool; readonly contentType: string | null }
  | { readonly kind: "none" };

export type Shape = "openai" | "azure";

export interface ProxyCall {
  readonly operation: Operation;
  /** The client's method; for relayed v1 resources it is the operation. */
  readonly method: string;
  /** The model the client asked for (OpenAI shape) or the deployment in its path (Azure shape); absent when the operation is not routed by model. */
  readonly model: string | undefined;
  /** The `model` field of the body as sent (absent on Azure's deployment-path shape). */
  readonly bodyModel: string | undefined;
  readonly body: CallBody;
  /** The client asked for an SSE stream. */
  readonly stream: boolean;
  /** Which API shape the client spoke: stream fix-ups apply to OpenAI-shaped clients only. */
  readonly shape: Shape;
  /** Path parameters (a stored response's id) and, for relayed v1 resources, the rest of the path. */
  readonly params: Readonly<Record<string, string>>;
  /** The client's query string for relayed v1 resources (pagination); empty otherwise. */
  readonly query: string;
  /** The client's Accept header, for operations that answer in several formats. */
  readonly accept: string | null;
  readonly client: Client;
  /** Told what the call does (attempts, first byte, usage); the caller owns what follows from it. */
  readonly observer: CallObserver;
  /** The body's `stream_options` object, null when absent: the proxy asks Azure for usage whatever it says. */
  readonly streamOptions: Readonly<Record<string, unknown>> | null;
  /** The `Proxy-src` header: an upstream group, when the config has groups. */
  readonly group: string | undefined;
  readonly requestId: string;
  /** Fires when the client goes away; the upstream call is aborted with it. */
  readonly signal: AbortSignal;
}

/** Release what the body holds (a spooled upload); safe to call more than once. */
export function disposeBody(body: CallBody): void {
  if (body.kind === "multipart" || body.kind === "raw") void body.spool.dispose();
}
