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
        if (fake.refuse || params.client_secret !== "right-secret") {
          return Response.json({ error: "invalid_client", error_description: "AADSTS7000215: Invalid client secret provided." }, { status: 401 });
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
