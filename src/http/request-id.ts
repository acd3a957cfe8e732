/** The id of each request, decided once and readable from any layer that has the Request. */
import { requestIdFrom } from "../lib/ids.ts";

const ids = new WeakMap<Request, string>();

export function requestIdOf(request: Request): string {
  let id = ids.get(request);
  if (id === undefined) {
    id = requestIdFrom(request.headers.get("x-request-id"));
    ids.set(request, id);
  }
  return id;
}
