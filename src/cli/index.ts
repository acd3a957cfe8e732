/** Subcommand dispatch. Each subcommand returns its exit code. */
import type { RuntimeAdapter } from "../runtime/types.ts";
import { VERSION } from "../version.ts";
import { UsageError } from "./args.ts";
import { checkCommand } from "./check.ts";
import { demoCommand } from "./demo.ts";
import { healthcheckCommand } from "./healthcheck.ts";
import { serveCommand } from "./serve.ts";
import { simulateCommand } from "./simulate.ts";
import { USAGE } from "./usage.ts";

export async function runCli(argv: string[], runtime: RuntimeAdapter): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "--help" || first === "-h" || first === "help") {
    console.log(USAGE);
    return 0;
  }
  if (first === "--version" || first === "-v") {
    console.log(`azure-proxy ${VERSION} (${runtime.name} ${runtime.version})`);
    return 0;
  }
  try {
    switch (first) {
      case undefined:
        return await serveCommand([], runtime);
      case "serve":
        return await serveCommand(rest, runtime);
      case "demo":
        return await demoCommand(rest, runtime);
      case "simulate":
        return await simulateCommand(rest, runtime);
      case "check":
        return await checkCommand(rest);
      case "healthcheck":
        return await healthcheckCommand(rest);
      default:
        // `azure-proxy --port 9000` means serve with flags
        if (first.startsWith("--")) return await serveCommand(argv, runtime);
        throw new UsageError(`unknown command "${first}"`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`azure-proxy: ${error.message}\n\n${USAGE}`);
    return 2;
  }
}
