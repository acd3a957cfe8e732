/**
 * Azure has two API styles and a deployment must use one (docs/azure.md §8.1):
 * a dated version (`2024-10-21`, `2025-04-01-preview`) means `/openai/deployments/{d}/...?api-version=`;
 * `v1`, `preview` or nothing means `/openai/v1/...` with the deployment in the body's `model`.
 * Sending a dated version to /openai/v1 is a 400 from Azure, so we decide once, at load.
 */
export const API_VERSION_PATTERN = "^(\\d{4}-\\d{2}-\\d{2}(-preview)?|v1|preview)$";
export const API_VERSION_HINT = 'a date like 2024-10-21 or 2025-04-01-preview, or "v1" / "preview" for the v1 API';

export type ApiStyle = "dated" | "v1";

export function styleOf(apiVersion: string): ApiStyle {
  return /^\d{4}-/.test(apiVersion) ? "dated" : "v1";
}
