import { parseFlags } from "./args.ts";

/** For Docker's HEALTHCHECK: no curl in a distroless image, so the binary checks itself. */
export async function healthcheckCommand(args: string[]): Promise<number> {
  const flags = parseFlags(args, { url: { type: "string" } });
  const url = flags.url ?? `http://127.0.0.1:${process.env.PORT || 8000}/healthz`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(3000) });
    await response.body?.cancel();
    if (response.ok) return 0;
    console.error(`healthcheck: ${url} answered ${response.status}`);
  } catch (error) {
    console.error(`healthcheck: ${url} unreachable: ${(error as Error).message}`);
  }
  return 1;
}
