/**
 * What the GPU tests share: the process' `Gpu` (or the reason there is none, in which case every
 * GPU test is reported as ignored with the reason printed once, or fails under `CI=true`; see
 * `../requirements.ts`), random inputs, and a closeness
 * check that prints the max difference against the stated tolerance whether it passes or not.
 *
 * @module
 */

import { type Gpu, type GpuTensor, sharedGpu } from "../../engine/gpu/mod.ts";
import { type Rng, Tensor } from "../../engine/tensor/mod.ts";
import { assertClose } from "../helpers.ts";
import { Requirement } from "../requirements.ts";

const gpuOrReason = await sharedGpu();

/**
 * A WebGPU adapter (lavapipe where there is no GPU): required under `CI=true`, else the GPU tests
 * are ignored with the reason. For tests that need the adapter but not `gpuTest`'s signature.
 */
export const GPU = new Requirement(
  "GPU tests",
  gpuOrReason instanceof Error ? gpuOrReason.message : undefined,
);

/**
 * A test that runs on the GPU; where there is no adapter it is ignored (with the reason printed),
 * or fails under `CI=true`. WebGPU keeps its own async work alive between tests, so Deno's
 * sanitizers are off here.
 */
export function gpuTest(name: string, fn: (gpu: Gpu) => Promise<void>): void {
  GPU.test({
    name,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () => fn(gpuOrReason as Gpu),
  });
}

/** A float64 tensor of standard normals, the same for the same seed. */
export function randomTensor(shape: readonly number[], rng: Rng, scale = 1): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return new Tensor(Float64Array.from({ length: n }, () => scale * rng.normal()), shape);
}

/**
 * Asserts `max |actual - expected| <= tol` and prints the max difference either way, as llm.c's
 * tests print `maxdiff`, so a kernel drifting toward its tolerance shows before it fails.
 */
export function expectClose(actual: Tensor, expected: Tensor, tol: number, what: string): void {
  const a = actual.data;
  const e = expected.data;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - e[i]!));
  if (a.length !== e.length) diff = Infinity;
  console.log(`  ${what}: max |diff| ${diff.toExponential(2)} (tolerance ${tol.toExponential(0)})`);
  assertClose(actual, expected, tol, what);
}

/** Reads tensors back and returns their bits, to check that a second run gives the same. */
export async function bits(gpu: Gpu, tensors: readonly GpuTensor[]): Promise<Uint32Array[]> {
  return (await gpu.read(tensors)).map((t) =>
    new Uint32Array(t.data.buffer, t.data.byteOffset, t.data.length)
  );
}
