/**
 * Which device a command computes on: training and analysis both ask here.
 *
 * @module
 */

import { type Gpu, requestGpu } from "./device.ts";

/**
 * Where a run trains: `auto` takes a hardware GPU if there is one, else the CPU. A software adapter
 * (lavapipe) only emulates a GPU on the same cores, and the CPU path beat it on a 2-core machine
 * (smoke preset: 32 against 49 ms per step); `gpu` still asks for it.
 */
export type Device = typeof DEVICES[number];

/** The values of `Device`, for a form or a flag's help. */
export const DEVICES = ["auto", "gpu", "cpu"] as const;

/**
 * The GPU to compute on, or undefined for the CPU, as `device` asks (training and analysis alike).
 *
 * @example
 * ```ts
 * import { pickDevice } from "./pick_device.ts";
 * const gpu = await pickDevice("cpu"); // undefined: the float64 CPU path
 * ```
 */
export async function pickDevice(device: Device): Promise<Gpu | undefined> {
  if (device === "cpu") return undefined;
  try {
    const gpu = await requestGpu();
    if (device === "auto" && gpu.adapter.isFallback) {
      gpu.destroy();
      return undefined;
    }
    return gpu;
  } catch (e) {
    if (device === "gpu") throw e;
    return undefined;
  }
}

/**
 * Whether this machine has a hardware GPU (a software adapter such as lavapipe is not one): what
 * decides the preset a bare `train` runs, and the launch form's default.
 *
 * @example
 * ```ts
 * import { hasHardwareGpu } from "./pick_device.ts";
 * if (!(await hasHardwareGpu())) console.log("runs train on the CPU by default");
 * ```
 */
export async function hasHardwareGpu(): Promise<boolean> {
  const gpu = await pickDevice("auto");
  gpu?.destroy();
  return gpu !== undefined;
}
