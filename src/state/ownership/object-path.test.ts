import { expect, test } from "bun:test";
import { CHAT_COMPLETIONS, RESPONSE_GET, RESPONSES, V1_RESOURCE } from "../../proxy/operations.ts";
import { accessOf } from "./object-path.ts";

const resource = (method: string, path: string) => accessOf({ operation: V1_RESOURCE, method, params: { "*": path } });

test("collections: POST creates, GET lists", () => {
  expect(resource("POST", "files")).toEqual({ kind: "create" });
  expect(resource("GET", "files")).toEqual({ kind: "list" });
  expect(resource("POST", "fine_tuning/jobs")).toEqual({ kind: "create" });
  expect(resource("GET", "vector_stores")).toEqual({ kind: "list" });
});

test("anything on or under one object names that object", () => {
  expect(resource("GET", "files/file-abc/content")).toEqual({ kind: "object", id: "file-abc" });
  expect(resource("DELETE", "files/file-abc")).toEqual({ kind: "object", id: "file-abc" });
  expect(resource("POST", "batches/batch_1/cancel")).toEqual({ kind: "object", id: "batch_1" });
  expect(resource("POST", "vector_stores/vs_1/files")).toEqual({ kind: "object", id: "vs_1" });
  expect(resource("GET", "fine_tuning/jobs/ftjob-1/events")).toEqual({ kind: "object", id: "ftjob-1" });
});

test("stored responses: creating one claims it, the id routes check it; other calls are not objects", () => {
  expect(accessOf({ operation: RESPONSES, method: "POST", params: {} })).toEqual({ kind: "create" });
  expect(accessOf({ operation: RESPONSE_GET, method: "GET", params: { id: "resp_1" } })).toEqual({ kind: "object", id: "resp_1" });
  expect(accessOf({ operation: CHAT_COMPLETIONS, method: "POST", params: {} })).toEqual({ kind: "none" });
  expect(resource("GET", "fine_tuning/checkpoints")).toEqual({ kind: "none" });
  expect(resource("DELETE", "files")).toEqual({ kind: "none" });
});
