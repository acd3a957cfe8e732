/**
 * What a finished request adds to the ledger: a call that went upstream (a refused or
 * unroutable one cost nothing), with the tokens Azure reported; a call with no usage (an
 * upstream error, a binary answer, a cut stream) still counts as a request. A model a client
 * made up (any_model) that Azure did not serve is "other", as in the metrics (record.ts): each
 * made-up name would be a ledger row of its own, a day, without end.
 */
import type { RequestRecord } from "../metrics/record.ts";
import type { UsageEntry } from "./usage-row.ts";

export function ledgerEntry(record: Pick<RequestRecord, "key" | "model" | "modelKnown" | "upstream" | "usage">, at: number): UsageEntry | undefined {
  if (record.upstream === undefined) return undefined;
  const usage = record.usage;
  return {
    key: record.key,
    model: record.model === undefined ? "none" : record.modelKnown ? record.model : "other",
    upstream: record.upstream,
    prompt: usage?.prompt ?? 0,
    cached: usage?.cached ?? 0,
    completion: usage?.completion ?? 0,
    at,
  };
}
