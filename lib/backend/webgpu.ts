/** WebGPU backend: arrives with the WebGPU issue. */
import type { Backend } from "./backend.ts";

export function requestWebGpuBackend(
  choice: "webgpu" | "auto",
  log: (line: string) => void,
): Promise<Backend | null> {
  if (choice === "auto") {
    log("backend auto: the WebGPU backend is not built yet; using the CPU");
    return Promise.resolve(null);
  }
  throw new Error("backend webgpu: not built yet; use --backend=cpu");
}
