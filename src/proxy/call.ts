/** One client request to relay, as plain values: what the route module hands to `forward`. */
import type { Operation } from "./operation.ts";

export interface ProxyCall {
  readonly operation: Operation;
  /** The model name the client asked for (OpenAI shape) or the deployment in its path (Azure shape). */
  readonly model: string;
  /** The `model` field of the body as sent (absent on Azure's deployment-path shape). */
  readonly bodyModel: string | undefined;
  /** The request body exactly as the client sent it. */
  readonly bodyText: string;
  /** The client asked for an SSE stream. */
  readonly stream: boolean;
  readonly requestId: string;
  /** Fires when the client goes away; the upstream call is aborted with it. */
  readonly signal: AbortSignal;
}
