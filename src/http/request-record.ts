/** Each request's record (metrics/record.ts), found from the Request by any http module. */
import type { RequestRecord } from "../metrics/record.ts";

const records = new WeakMap<Request, RequestRecord>();

export function attachRecord(request: Request, record: RequestRecord): void {
  records.set(request, record);
}

export function recordOf(request: Request): RequestRecord {
  const record = records.get(request);
  if (!record) throw new Error("request has no record: it did not come through buildApp");
  return record;
}
