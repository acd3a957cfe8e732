/**
 * Azure's error bodies, verbatim from docs/azure.md §5.2, including their
 * inconsistencies (numeric-string codes, null types, `innererror` without underscore,
 * singular `content_filter_result`), because the proxy must survive exactly these.
 */
export const AZURE_BODIES = {
  unauthorized: {
    error: {
      code: "401",
      message:
        "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
    },
  },
  resourceNotFound: { error: { code: "404", message: "Resource not found" } },
  apiVersionNotSupported: { error: { code: "BadRequest", message: "API version not supported" } },
  deploymentNotFound: {
    error: {
      code: "DeploymentNotFound",
      message:
        "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
    },
  },
  promptFiltered: {
    error: {
      message:
        "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
      type: null,
      param: "prompt",
      code: "content_filter",
      status: 400,
      innererror: {
        code: "ResponsibleAIPolicyViolation",
        content_filter_result: {
          hate: { filtered: true, severity: "high" },
          self_harm: { filtered: false, severity: "safe" },
          sexual: { filtered: false, severity: "safe" },
          violence: { filtered: false, severity: "safe" },
        },
      },
    },
  },
  internal: { error: { code: "InternalServerError", message: "The server had an error while processing your request. Sorry about that!" } },
  unavailable: { error: { code: "ServiceUnavailable", message: "The service is temporarily unable to process your request. Please try again later." } },
  invalidJson: { error: { message: "Invalid JSON body.", type: "invalid_request_error", param: null, code: null } },
  missingModel: { error: { message: "you must provide a model parameter", type: "invalid_request_error", param: null, code: null } },
  // OpenAI's wording for a JSON body sent to a multipart operation (inferred; Azure's is undocumented)
  notMultipart: { error: { message: "Invalid Content-Type header, expected multipart/form-data.", type: "invalid_request_error", param: null, code: null } },
};

export function rateLimited(operation: string, apiVersion: string, retryAfterSeconds: number) {
  return {
    error: {
      code: "429",
      message: `Requests to the ${operation} Operation under Azure OpenAI API version ${apiVersion} have exceeded token rate limit of your current OpenAI S0 pricing tier. Please retry after ${retryAfterSeconds} seconds. Please go here: https://aka.ms/oai/quotaincrease if you would like to further increase the default rate limit.`,
    },
  };
}

/** A mid-stream error event, as Azure sends it inside a 200 stream (§3.6.7). */
export const MID_STREAM_ERROR = {
  error: { message: "The server had an error processing your request.", type: "server_error", param: null, code: "internal_error" },
};
