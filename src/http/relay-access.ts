/**
 * Who may use the operations that are not routed by model: the v1 resource relays (files,
 * batches, vector stores, fine-tuning) and the stored responses. They all go to the default
 * upstream, and none names a model, so the per-model checks of forward() never see them:
 * - a key limited to some models may not use the resource relays at all (a batch or a
 *   fine-tuning job runs whatever model its file names; a file feeds them), only a key allowed
 *   every model may;
 * - a `Proxy-src` group limits a request to that group's upstreams: a key has no group of its
 *   own in the config, so the group is the one the request names, and the default upstream must
 *   be in it;
 * - only the methods the routes list (GET, POST, DELETE) reach Azure; HEAD, which the router
 *   maps to GET, does not.
 * Checked before the body is read, so a refused upload is never spooled.
 */
import type { RoutingTable } from "../config/resolve.ts";
import { Failure } from "../lib/failure.ts";
import { proxySrcGroup } from "../lib/headers.ts";
import { unknownGroupFailure } from "../proxy/forward.ts";
import { contextOf } from "./request-context.ts";

export type RelayRouting = Pick<RoutingTable, "hasGroups" | "groupMembers" | "defaultUpstream">;
/** Throws the Failure that refuses the request; `resource`: a v1 resource relay, not a stored response. */
export type RelayAccess = (request: Request, resource: boolean) => void;

const RELAY_METHODS = new Set(["GET", "POST", "DELETE"]);

export function relayAccess(routing: RelayRouting): RelayAccess {
  const home = routing.defaultUpstream.name;
  return (request, resource) => {
    if (!RELAY_METHODS.has(request.method)) {
      throw new Failure("method_not_allowed", `${request.method} is not relayed; use GET, POST or DELETE.`, {
        code: "method_not_allowed",
        headers: { allow: "GET, POST, DELETE" },
      });
    }
    const { client } = contextOf(request);
    if (resource && client.models !== null) {
      throw new Failure(
        "forbidden",
        `The key '${client.name}' is limited to some models, so it may not use files, batches, vector stores or fine-tuning jobs; only a key allowed every model may.`,
        { code: "relay_not_allowed" },
      );
    }
    if (!routing.hasGroups) return;
    const group = proxySrcGroup(request.headers);
    if (group === undefined) return;
    const members = routing.groupMembers(group);
    if (!members) throw unknownGroupFailure(group);
    if (!members.has(home)) {
      throw new Failure(
        "forbidden",
        `Files, batches, vector stores, fine-tuning jobs and stored responses live on upstream '${home}', which the Proxy-src group '${group}' does not include.`,
        {
          code: "group_not_allowed",
        },
      );
    }
  };
}
