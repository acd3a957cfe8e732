/** Files and batches, docs/azure.md §1.3 (dated authoring) and §1.4 (v1). */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { binary, expectRateLimited, GA, sha256, startSim, type Sim } from "./helpers.ts";

let sim: Sim;
beforeAll(async () => {
  sim = await startSim();
});
afterAll(() => sim.stop());

interface FileObject {
  id: string;
  object: string;
  bytes: number;
  filename: string;
  purpose: string;
  status: string;
  created_at: number;
}

const upload = (url: string, content: Uint8Array<ArrayBuffer>, purpose = "batch", filename = "data.jsonl") => {
  const form = new FormData();
  form.set("purpose", purpose);
  form.set("file", new File([content], filename, { type: "application/octet-stream" }));
  return sim.postForm(url, form);
};

describe("files", () => {
  test("dated upload: 201, Location, the file object; list, get, content byte for byte, delete, then 404", async () => {
    const content = binary(5000);
    const response = await upload(sim.dated("/files", GA), content, "fine-tune", "train.jsonl");
    expect(response.status).toBe(201);
    const file = (await response.json()) as FileObject;
    expect(file).toMatchObject({ object: "file", bytes: 5000, filename: "train.jsonl", purpose: "fine-tune", status: "processed" });
    expect(file.id).toMatch(/^file-[0-9a-f]{32}$/);
    expect(response.headers.get("location")).toBe(`${sim.url}/openai/files/${file.id}`);
    expect(sim.last().files![0]!.sha256).toBe(sha256(content));

    const list = (await (await sim.get(sim.dated("/files"))).json()) as { object: string; data: FileObject[] };
    expect(list.object).toBe("list");
    expect(list.data.map((f) => f.id)).toContain(file.id);
    expect(((await (await sim.get(sim.dated(`/files/${file.id}`))).json()) as FileObject).id).toBe(file.id);
    const got = await sim.get(sim.dated(`/files/${file.id}/content`));
    expect(got.headers.get("content-type")).toBe("application/octet-stream");
    expect(sha256(new Uint8Array(await got.arrayBuffer()))).toBe(sha256(content));
    expect(await (await sim.del(sim.dated(`/files/${file.id}`))).json()).toEqual({ object: "file", deleted: true, id: file.id });
    for (const path of [`/files/${file.id}`, `/files/${file.id}/content`]) {
      const gone = await sim.get(sim.dated(path));
      expect(gone.status).toBe(404);
      expect(((await gone.json()) as { error: { message: string } }).error.message).toContain(file.id);
    }
  });

  test("v1 upload answers 200; list filters by purpose; bad purpose or no file is 400", async () => {
    const response = await upload(sim.v1("/files"), binary(10), "assistants");
    expect(response.status).toBe(200);
    const file = (await response.json()) as FileObject;
    const batchFiles = (await (await sim.get(sim.v1("/files", "?purpose=batch"))).json()) as { data: FileObject[] };
    expect(batchFiles.data.some((f) => f.id === file.id)).toBe(false);
    expect((await upload(sim.v1("/files"), binary(10), "nonsense")).status).toBe(400);
    const noFile = new FormData();
    noFile.set("purpose", "batch");
    expect((await sim.postForm(sim.v1("/files"), noFile)).status).toBe(400);
  });

  test("[sim status=429] in the purpose field names Files_Upload", async () => {
    await expectRateLimited(await upload(sim.v1("/files"), binary(10), "batch [sim status=429 retry_after=2]"), "Files_Upload", 2, expect);
  });
});

describe("batches", () => {
  const request = { input_file_id: "file-abc", endpoint: "/chat/completions", completion_window: "24h", metadata: { batch_description: "Evaluation job" } };

  test("create (dated, v1, and the Node SDK's deployment path), get, list, cancel", async () => {
    for (const url of [sim.dated("/batches"), sim.v1("/batches"), sim.scoped("gpt-4o", "/batches")]) {
      const response = await sim.postJson(url, request);
      expect(response.status).toBe(200);
      const batch = (await response.json()) as Record<string, unknown> & { id: string };
      expect(batch).toMatchObject({
        object: "batch",
        status: "validating",
        endpoint: "/chat/completions",
        errors: null,
        request_counts: { total: 0, completed: 0, failed: 0 },
        metadata: request.metadata,
      });
      expect(batch.id).toStartWith("batch_");
      expect(((await (await sim.get(sim.v1(`/batches/${batch.id}`))).json()) as { id: string }).id).toBe(batch.id);
    }
    const list = (await (await sim.get(sim.v1("/batches", "?limit=2"))).json()) as { data: unknown[]; has_more: boolean };
    expect(list.data).toHaveLength(2);
    expect(list.has_more).toBe(true);

    const batch = (await (await sim.postJson(sim.dated("/batches"), request)).json()) as { id: string };
    const cancelling = (await (await sim.postJson(sim.dated(`/batches/${batch.id}/cancel`), "")).json()) as { status: string };
    expect(cancelling.status).toBe("cancelling");
    expect(((await (await sim.get(sim.dated(`/batches/${batch.id}`))).json()) as { status: string }).status).toBe("cancelled");
  });

  test("missing fields are 400; unknown ids are 404; 429 names Batch_Create", async () => {
    expect((await sim.postJson(sim.v1("/batches"), { endpoint: "/chat/completions" })).status).toBe(400);
    expect((await sim.get(sim.v1("/batches/batch_nope"))).status).toBe(404);
    expect((await sim.postJson(sim.v1("/batches/batch_nope/cancel"), "")).status).toBe(404);
    await expectRateLimited(
      await sim.postJson(sim.v1("/batches"), { ...request, metadata: { note: "[sim status=429 retry_after=7]" } }),
      "Batch_Create",
      7,
      expect,
    );
  });
});
