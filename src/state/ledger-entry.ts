/**
 * What a finished request adds to the ledger: a call that went upstream (a refused or
 * unroutable one cost nothing), with the tokens Azure reported; a call with no usage (an
 * upstream error, a binary answer, a cut stream) still counts as a request.
 */
import type { RequestRecord } from "../metrics/record.ts";
import type { UsageEntry } from "./usage-row.ts";

export function ledgerEntry(record: Pick<RequestRecord, "key" | "model" | "upstream" | "usage">, at: number): UsageEntry | undefined {
  if (record.upstream === undefined) return undefined;
  const usage = record.usage;
  return {
    key: record.key,
    model: record.model ?? "none",
    upstream: record.upstream,
    prompt: usage?.prompt ?? 0,
    cached: usage?.cached ?? 0,
    completion: usage?.completion ?? 0,
    at,
  };
}
