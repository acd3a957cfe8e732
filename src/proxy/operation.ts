/**
 * The operations the proxy relays, declared once: the route modules register one route per
 * entry and shape, and `prepare` builds the upstream URL from the same entry. Adding an
 * operation is adding a row.
 */
export interface Operation {
  /** Stable id for logs and metrics. */
  readonly id: string;
  /** Path after `/v1`, `/openai/v1` or `/openai/deployments/{d}`. */
  readonly suffix: string;
  /** Whether the dated API scopes it by deployment in the path (azure-contract.md §1.2). */
  readonly deploymentScoped: boolean;
  /** Its SSE stream ends with `data: [DONE]`, so a stream without it was cut short. */
  readonly streamEndsWithDone: boolean;
}

export const CHAT_COMPLETIONS: Operation = Object.freeze({
  id: "chat.completions",
  suffix: "/chat/completions",
  deploymentScoped: true,
  streamEndsWithDone: true,
});
