/** Subcommand dispatch. Each subcommand returns its exit code. */
import type { RuntimeAdapter } from "../runtime/types.ts";
import { VERSION } from "../version.ts";
import { UsageError } from "./args.ts";
import { SUBCOMMAND_USAGE, USAGE } from "./usage.ts";

// Each command is imported when run: a command loads only what it uses (the primary of a
// worker pool, `check` and `healthcheck` never load the HTTP server).
const serveCommand = async (args: string[], runtime: RuntimeAdapter) => (await import("./serve.ts")).serveCommand(args, runtime);

export async function runCli(argv: string[], runtime: RuntimeAdapter): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "--help" || first === "-h" || (first === "help" && rest.length === 0)) {
    console.log(USAGE);
    return 0;
  }
  // `check --help`, `help check`, and `--port 9000 --help` (flags alone mean serve)
  const named = first === "help" ? rest[0] : first?.startsWith("--") ? "serve" : first;
  if (named !== undefined && SUBCOMMAND_USAGE[named] && (first === "help" || argv.includes("--help") || argv.includes("-h"))) {
    console.log(SUBCOMMAND_USAGE[named]);
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
        return await (await import("./demo.ts")).demoCommand(rest, runtime);
      case "simulate":
        return await (await import("./simulate.ts")).simulateCommand(rest, runtime);
      case "check":
        return await (await import("./check.ts")).checkCommand(rest);
      case "usage":
        return await (await import("./usage-report.ts")).usageCommand(rest);
      case "healthcheck":
        return await (await import("./healthcheck.ts")).healthcheckCommand(rest);
      case "worker":
        // not in the usage text: started by `serve --workers N` over IPC (cluster/worker.ts)
        return await (await import("../cluster/worker.ts")).runWorker(runtime);
      default:
        // `azure-proxy --port 9000` means serve with flags
        if (first.startsWith("--")) return await serveCommand(argv, runtime);
        // `help NAME` with a NAME that has no usage: the unknown one is NAME
        throw new UsageError(`unknown command "${first === "help" ? rest[0] : first}"`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`azure-proxy: ${error.message}\n\n${USAGE}`);
    return 2;
  }
}
