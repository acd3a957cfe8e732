export const USAGE = `azure-proxy: an OpenAI-compatible front door for Azure OpenAI

Usage:
  azure-proxy [serve] [--config FILE] [--port N] [--host ADDR] [--workers N|auto]
                     [--insecure-no-auth]
  azure-proxy demo [--port N] [--quota ...]
                                       proxy + built-in Azure simulator; prints a curl to try
  azure-proxy simulate [--port N] [--host ADDR] [--key KEY]
                     [--quota DEPLOYMENT:tokens=N,requests=N,window_ms=N[,ptu=1]]...
                                       the Azure simulator alone (default port 9100)
  azure-proxy check [--config FILE]    validate env + config, print the routing table (secrets masked)
  azure-proxy healthcheck [--url URL]  exit 0 when a running proxy answers /healthz
  azure-proxy usage [--config FILE] [--since 7d|YYYY-MM-DD] [--until YYYY-MM-DD]
                    [--by key,model,upstream,day] [--format table|csv|json]
                                       the usage ledger from the state file (state.path)
  azure-proxy --help | --version

Environment:
  AZURE_OPENAI_ENDPOINT (or AZURE_ENDPOINT)  Azure resource URL, e.g. https://myres.openai.azure.com
  AZURE_OPENAI_API_KEY                       Azure key (sent upstream as api-key)
  AZURE_OPENAI_API_VERSION                   a date (2024-10-21) → dated API; v1/preview/unset → v1 API
  AZURE_OPENAI_MODEL_MAP                     gpt-3.5-turbo=gpt-35-turbo,gpt-4o=prod-4o
  AUTH_KEY                                   client keys, comma-separated
  PORT, HOST                                 listen address (8000, 0.0.0.0)
  AZURE_PROXY_WORKERS                        processes serving the port (auto: one per core)
  LOG_LEVEL, LOG_FORMAT                      debug|info|warn|error; json|pretty
  AZURE_OPENAI_MAX_COMPLETION_TOKENS_MODELS  models that need max_completion_tokens (o1*,gpt-5*)
  AZURE_PROXY_STREAM_FIXUPS                  on/off: drop Azure-only annotation chunks (on)
  AZURE_PROXY_MAX_BODY_BYTES                 largest request body (27262976)
  AZURE_PROXY_STATE_PATH                     SQLite file for the usage ledger and budgets
  AZURE_PROXY_REDIS_URL                      Redis shared by several instances

Exit codes: 0 ok, 1 runtime failure, 2 bad usage or invalid configuration.
`;

/** `azure-proxy SUBCOMMAND --help`: that subcommand's usage alone. */
export const SUBCOMMAND_USAGE: Readonly<Record<string, string>> = {
  serve: `Usage: azure-proxy [serve] [--config FILE] [--port N] [--host ADDR] [--workers N|auto] [--insecure-no-auth]

Serve the proxy (the default command).
  --config FILE        config file, YAML or JSON (or AZURE_PROXY_CONFIG); reloaded on SIGHUP and on change
  --port N, --host A   listen address (PORT, HOST; default 8000, 0.0.0.0)
  --workers N|auto     processes serving the port (AZURE_PROXY_WORKERS; auto: one per core)
  --insecure-no-auth   accept requests without a client key (local development only)
`,
  demo: `Usage: azure-proxy demo [--port N]

Start the proxy on --port (default 8000) with the built-in Azure simulator as its upstream,
and print a curl command to try.
`,
  simulate: `Usage: azure-proxy simulate [--port N] [--host ADDR] [--key KEY]

Run the Azure simulator alone (default port 9100), for client development and tests.
  --key KEY   the api-key the simulator accepts
`,
  check: `Usage: azure-proxy check [--config FILE] [--insecure-no-auth] [--reference]

Validate the environment and the config file, print the effective routing table (secrets
masked). Exit 0 when valid, 2 when not, naming the field.
  --reference   print the config file reference (Markdown) generated from the schema
`,
  healthcheck: `Usage: azure-proxy healthcheck [--url URL] [--config FILE] [--host ADDR] [--port N]

Exit 0 when a running proxy answers /healthz, else 1. For Docker's HEALTHCHECK.
Default: the listener serve would open from the same environment, config file and flags,
http://127.0.0.1:PORT/healthz (the host instead when it names one address; https when
server.tls is set, its certificate not verified on this loopback check). A --url is verified
like any fetch.
`,
};
