/**
 * The deployments that may serve a Realtime session or ephemeral key for a client, or why none
 * may: the same answers (403, 400 unknown group, 404 with the known models) as HTTP calls get.
 */
import type { Route, RoutingTable } from "../config/resolve.ts";
import { Failure } from "../lib/failure.ts";
import type { Client } from "../config/client.ts";
import { unknownGroupFailure } from "../proxy/forward.ts";

export function candidatesFor(routing: RoutingTable, client: Client, model: string, requestedGroup: string | undefined): readonly Route[] {
  if (client.models && !client.models.has(model)) {
    throw new Failure("forbidden", `The key '${client.name}' may not use the model '${model}'.`, { param: "model", code: "model_not_allowed" });
  }
  const group = routing.hasGroups ? requestedGroup : undefined;
  // the same answer as an HTTP call's, which names no other group (the operator's business)
  if (group !== undefined && !routing.groupMembers(group)) throw unknownGroupFailure(group);
  const candidates = routing.candidates(model, group);
  if (candidates.length === 0) {
    const known = routing.listedModels.length > 0 ? ` Available models: ${routing.listedModels.join(", ")}.` : "";
    throw new Failure("model_not_found", `The model '${model}' does not exist or is not served by this proxy.${known}`, {
      param: "model",
      code: "model_not_found",
    });
  }
  return candidates;
}
