/** The Azure simulator on a real socket inside the test process, with its recorder at hand. */
import { bunRuntime } from "../../src/runtime/bun.ts";
import { createSimulator, type SimulatorOptions } from "../../src/simulator/app.ts";
import type { Recorder } from "../../src/simulator/recorder.ts";

export interface RunningSimulator {
  readonly url: string;
  readonly key: string;
  readonly recorder: Recorder;
  stop(): Promise<void>;
}

export async function startSimulator(options: Partial<SimulatorOptions> = {}): Promise<RunningSimulator> {
  const key = options.apiKey ?? `sim-${crypto.randomUUID()}`;
  const simulator = createSimulator({ ...options, apiKey: key });
  const server = await bunRuntime.serve({ hostname: "127.0.0.1", port: 0, fetch: simulator.fetch });
  return {
    url: `http://127.0.0.1:${server.port}`,
    key,
    recorder: simulator.recorder,
    stop: () => server.stop(true),
  };
}
