/**
 * Fine-tuning jobs, docs/azure.md §1.3 (dated `/openai/fine_tuning/jobs`, 201 with a
 * `Location` header as in the 2024-10-21 post_finetuning_job.json example) and §1.4 (v1).
 * Jobs stay `pending`: nothing trains.
 */
import { invalidRequest, json, listing, lookup, unixNow, type OperationContext } from "./context.ts";

export function createFineTuningJob(ctx: OperationContext): Response {
  const { body, headers } = ctx;
  for (const name of ["model", "training_file"]) {
    if (typeof body[name] !== "string" || body[name] === "") return json(invalidRequest(`'${name}' is a required property`, name), 400, headers);
  }
  const dated = ctx.style === "dated";
  const job = {
    // dated example: {"n_epochs": -1}; v1 (OpenAI): "auto" for each
    hyperparameters: body.hyperparameters ?? (dated ? { n_epochs: -1 } : { n_epochs: "auto", batch_size: "auto", learning_rate_multiplier: "auto" }),
    status: "pending",
    model: body.model,
    training_file: body.training_file,
    validation_file: body.validation_file ?? null,
    suffix: body.suffix ?? null,
    seed: typeof body.seed === "number" ? body.seed : 42,
    fine_tuned_model: null,
    finished_at: null,
    result_files: [],
    trained_tokens: null,
    id: `ftjob-${crypto.randomUUID().replaceAll("-", "")}`,
    created_at: unixNow(),
    object: "fine_tuning.job",
  };
  ctx.state.fineTuningJobs.put(job.id, job);
  if (!dated) return json(job, 200, headers);
  headers.set("location", `${ctx.url.origin}/openai/fine_tuning/jobs/${job.id}`);
  return json(job, 201, headers);
}

export const listFineTuningJobs = listing("fineTuningJobs");

export const getFineTuningJob = lookup("fineTuningJobs", "Fine-tuning job");
