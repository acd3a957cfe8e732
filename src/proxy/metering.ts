/**
 * What a call is charged when Azure's usage will not come with its answer: the client left
 * before it (Azure still works on the prompt, and bills it), or a Responses answer has none yet
 * (a `background: true` response is answered "queued", `usage: null`). Without a charge, a key
 * could spend past its tpm by never waiting for answers. A stream is charged by what it
 * streamed instead (stream/usage-estimate.ts). Which calls are charged at all is the operation
 * table's `meter` column (operations.ts).
 */
import type { Usage } from "../stream/usage.ts";
import { promptOnly } from "../stream/usage-estimate.ts";
import type { ProxyCall } from "./call.ts";

/** The prompt's estimate for a metered JSON call; undefined for a call that is not charged. */
export function unansweredCharge(call: Pick<ProxyCall, "operation" | "body">): Usage | undefined {
  if (call.operation.meter === "none" || call.body.kind !== "json") return undefined;
  return promptOnly(call.body.text.length);
}

/** A whole answer came without usage: charged its prompt only where the operation says so. */
export function answeredWithoutUsage(call: Pick<ProxyCall, "operation" | "body">): Usage | undefined {
  return call.operation.meter === "answer-or-prompt" ? unansweredCharge(call) : undefined;
}
