/**
 * A local stand-in for the Microsoft identity platform and the Azure instance metadata service,
 * so Entra ID flows are tested without the internet: it issues numbered tokens with a chosen
 * lifetime and counts the requests, and can be told to refuse.
 */
import { bunRuntime } from "../../src/runtime/bun.ts";

export interface FakeIdentity {
  readonly url: string;
  /** Tokens issued so far (valid for the simulator while unexpired). */
  readonly issued: Map<string, number>;
  readonly requests: Array<{ kind: "client_credentials" | "managed_identity"; params: Record<string, string>; headers: Record<string, string> }>;
  expiresIn: number;
  refuse: boolean;
  isValid(token: string): boolean;
  stop(): Promise<void>;
}

export async function startIdentity(): Promise<FakeIdentity> {
  let n = 0;
  const fake = {
    issued: new Map<string, number>(),
    requests: [] as FakeIdentity["requests"],
    expiresIn: 3600,
    refuse: false,
    isValid: (token: string) => (fake.issued.get(token) ?? 0) > Date.now(),
  };
  const issue = () => {
    const token = `entra-token-${++n}`;
    fake.issued.set(token, Date.now() + fake.expiresIn * 1000);
    return token;
  };
  const server = await bunRuntime.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(request) {
      const url = new URL(request.url);
      const headers = Object.fromEntries(request.headers);
      if (request.method === "POST" && /^\/[^/]+\/oauth2\/v2\.0\/token$/.test(url.pathname)) {
        const params = Object.fromEntries(new URLSearchParams(await request.text()));
        fake.requests.push({ kind: "client_credentials", params: { ...params, tenant: url.pathname.split("/")[1]! }, headers });
        const tenant = url.pathname.split("/")[1]!;
        if (tenant.startsWith("missing-")) {
          const description = `AADSTS90002: Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.\r\nTrace ID: 0d4c6a4e-3333-4c1e-9a10-6f0d7e4b2200`;
          return Response.json({ error: "invalid_request", error_description: description, error_codes: [90002] }, { status: 400 });
        }
        if (fake.refuse || params.client_secret !== "right-secret") {
          // Azure's own wording: it names the application, and below it the trace lines
          const description =
            `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${params.client_id}'.\r\n` +
            "Trace ID: 0d4c6a4e-1111-4c1e-9a10-6f0d7e4b2200\r\nCorrelation ID: 5b7f2f0e-2222-4a7e-8d8b-0c1f4e6a3300\r\nTimestamp: 2026-12-01 10:00:00Z";
          return Response.json({ error: "invalid_client", error_description: description, error_codes: [7000215] }, { status: 401 });
        }
        return Response.json({ token_type: "Bearer", expires_in: fake.expiresIn, access_token: issue() });
      }
      if (request.method === "GET" && url.pathname === "/metadata/identity/oauth2/token") {
        fake.requests.push({ kind: "managed_identity", params: Object.fromEntries(url.searchParams), headers });
        if (fake.refuse || request.headers.get("metadata") !== "true") return Response.json({ error: "invalid_request" }, { status: 400 });
        // IMDS sends expires_in as a string
        return Response.json({ access_token: issue(), expires_in: String(fake.expiresIn), token_type: "Bearer" });
      }
      return new Response("not found", { status: 404 });
    },
  });
  return Object.assign(fake, { url: `http://127.0.0.1:${server.port}`, stop: () => server.stop(true) });
}
