/**
 * mechlab's WebGPU engine: the device (`requestGpu`, `sharedGpu`), GPU tensors, WGSL templates
 * compiled with loud errors into cached pipelines, and pre-bound dispatches that a training loop
 * encodes many at a time. The kernels themselves are in `kernels/`.
 *
 * @example
 * ```ts ignore
 * import { requestGpu } from "./mod.ts";
 * import { addForward } from "../../kernels/mod.ts";
 * const gpu = await requestGpu();
 * const a = gpu.upload(new Float32Array([1, 2, 3, 4]), [2, 2]);
 * const b = gpu.upload(new Float32Array([10, 20]), [2]);
 * const out = gpu.empty([2, 2]);
 * gpu.run(await addForward(gpu, a, b, out));
 * const [sum] = await gpu.read([out]); // [[11, 22], [13, 24]]
 * ```
 *
 * @module
 */

export * from "./device.ts";
export * from "./gpu_tensor.ts";
export * from "./buffer_pool.ts";
export * from "./shader.ts";
export * from "./grid.ts";
export * from "./pick_device.ts";
