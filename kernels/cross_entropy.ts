/**
 * Launchers for `cross_entropy.wgsl`: the loss of the scored rows fused with its gradient
 * (training), the loss and accuracy without gradient (evaluation), and per-segment sums of both for
 * one tiny readback. The float64 reference is `engine/reference/cross_entropy.ts`.
 *
 * Targets outside `[0, V)` (e.g. -1 for an unscored row) are ignored, never read through: the row's
 * loss, gradient and `correct` are 0.
 *
 * @module
 */

import source from "./cross_entropy.wgsl" with { type: "text" };
import {
  type Dispatch,
  expectShape,
  fillTemplate,
  type Gpu,
  type GpuTensor,
  grid1d,
} from "../engine/gpu/mod.ts";

/** What `crossEntropyForward` reads. */
export interface CrossEntropyInputs {
  /** `[R, V]` f32: the scored rows' logits. */
  logits: GpuTensor;
  /** `[R]` i32: the target id of each row. */
  targets: GpuTensor;
  /**
   * `[R / P]` f32: the weight of rows `[i·P, (i+1)·P)` in the total loss Σ_r weights[r / P] ·
   * loss[r] (1/R each for a mean); P = 1 for a weight per row, T for a weight per example whose T
   * positions are the rows.
   */
  weights: GpuTensor;
}

/** What `crossEntropyForward` writes. */
export interface CrossEntropyOutputs {
  /** `[R]` f32: logsumexp(row) - row[target], unweighted. */
  loss: GpuTensor;
  /** `[R, V]` f32: weights[r] · (softmax(row) - onehot(target)). */
  dlogits: GpuTensor;
}

/** What `crossEntropyEval` writes. */
export interface CrossEntropyEvalOutputs {
  /** `[R]` f32: logsumexp(row) - row[target]. */
  loss: GpuTensor;
  /** `[R]` f32: 1 where argmax(row) == target (lowest index on ties), else 0. */
  correct: GpuTensor;
}

/** The per-row workgroup: a power of two near V / 4 logits per invocation, from 32 to 256. */
function rowWorkgroupSize(V: number): number {
  let wg = 32;
  while (wg < 256 && wg * 4 < V) wg *= 2;
  return wg;
}

function expectDtype(kernel: string, operand: string, t: GpuTensor, dtype: "f32" | "i32"): void {
  if (t.dtype !== dtype) {
    throw new RangeError(`${kernel}: ${operand} has dtype ${t.dtype}, expected ${dtype}`);
  }
}

/** `[R, V]` of the logits, checked to be a matrix of at least one column. */
function rowsOf(kernel: string, logits: GpuTensor): [number, number] {
  if (logits.shape.length !== 2 || logits.shape[1]! < 1) {
    throw new RangeError(`${kernel}: logits has shape [${logits.shape}], expected [R, V]`);
  }
  return [logits.shape[0]!, logits.shape[1]!];
}

/**
 * The source for one row launch, `P` rows per weight: one segment of all R rows (segment_sums'
 * constants unused).
 */
function rowSource(R: number, V: number, P = 1): string {
  return fillTemplate(source, {
    R,
    V,
    P,
    WG: rowWorkgroupSize(V),
    G: 1,
    BOUNDS: `0u, ${R}u`,
  });
}

/**
 * Training: `loss [R]` and `dlogits [R, V]` of the weighted cross-entropy Σ_r w_r · loss_r, in one
 * launch of a workgroup per row (max-subtracted, fixed-order reductions); `weights` may hold one
 * weight per P consecutive rows.
 *
 * @example
 * ```ts ignore
 * const weights = gpu.upload(new Float32Array(R).fill(1 / R), [R]); // a plain mean
 * gpu.run(await crossEntropyForward(gpu, { logits, targets, weights }, { loss, dlogits }));
 * ```
 */
export async function crossEntropyForward(
  gpu: Gpu,
  inputs: CrossEntropyInputs,
  outputs: CrossEntropyOutputs,
): Promise<Dispatch[]> {
  const kernel = "cross_entropy_forward";
  const [R, V] = rowsOf(kernel, inputs.logits);
  expectShape(kernel, "targets", inputs.targets.shape, [R]);
  expectDtype(kernel, "targets", inputs.targets, "i32");
  const P = R / inputs.weights.size;
  if (inputs.weights.shape.length !== 1 || !Number.isInteger(P)) {
    throw new RangeError(
      `${kernel}: weights has shape [${inputs.weights.shape}], expected [R / P] for R ${R}`,
    );
  }
  expectShape(kernel, "loss", outputs.loss.shape, [R]);
  expectShape(kernel, "dlogits", outputs.dlogits.shape, [R, V]);
  return [
    await gpu.kernel({
      label: "cross_entropy.wgsl",
      source: rowSource(R, V, P),
      entryPoint: kernel,
      buffers: [inputs.logits, inputs.targets, inputs.weights, outputs.loss, outputs.dlogits],
      workgroups: grid1d(R, 1),
    }),
  ];
}

/**
 * Evaluation: `loss [R]` and `correct [R]` (argmax == target, ties to the lowest index), no
 * gradient; the mean of `correct` is the accuracy.
 *
 * @example
 * ```ts ignore
 * gpu.run(await crossEntropyEval(gpu, { logits, targets }, { loss, correct }));
 * ```
 */
export async function crossEntropyEval(
  gpu: Gpu,
  inputs: { logits: GpuTensor; targets: GpuTensor },
  outputs: CrossEntropyEvalOutputs,
): Promise<Dispatch[]> {
  const kernel = "cross_entropy_eval";
  const [R, V] = rowsOf(kernel, inputs.logits);
  expectShape(kernel, "targets", inputs.targets.shape, [R]);
  expectDtype(kernel, "targets", inputs.targets, "i32");
  expectShape(kernel, "loss", outputs.loss.shape, [R]);
  expectShape(kernel, "correct", outputs.correct.shape, [R]);
  return [
    await gpu.kernel({
      label: "cross_entropy.wgsl",
      source: rowSource(R, V),
      entryPoint: kernel,
      buffers: [inputs.logits, inputs.targets, outputs.loss, outputs.correct],
      workgroups: grid1d(R, 1),
    }),
  ];
}

/**
 * `out [G, 2]`: Σ loss and Σ correct over each of the G contiguous row segments
 * `bounds[g] <= r < bounds[g + 1]` (`bounds` non-decreasing within `[0, R]`, baked into the
 * shader), in a fixed order: a workgroup per segment, then a tree. Divide by the segment's size
 * (or not, where the rows carry weights) for the mean loss and the accuracy.
 *
 * @example
 * ```ts ignore
 * // train rows 0..3829 and test rows 3830..12768 of one eval pass
 * gpu.run(await segmentSums(gpu, { loss, correct }, sums, [0, 3830, 12769]));
 * const [perSegment] = await gpu.read([sums]); // [[Σ loss, Σ correct], ...]
 * ```
 */
export async function segmentSums(
  gpu: Gpu,
  inputs: { loss: GpuTensor; correct: GpuTensor },
  out: GpuTensor,
  bounds: readonly number[],
): Promise<Dispatch[]> {
  const kernel = "segment_sums";
  const R = inputs.loss.size;
  expectShape(kernel, "loss", inputs.loss.shape, [R]);
  expectShape(kernel, "correct", inputs.correct.shape, [R]);
  const G = bounds.length - 1;
  if (G < 1) throw new RangeError(`${kernel}: bounds [${bounds}] name no segment`);
  bounds.forEach((b, i) => {
    if (!Number.isInteger(b) || b < (i === 0 ? 0 : bounds[i - 1]!) || b > R) {
      throw new RangeError(
        `${kernel}: bounds [${bounds}] are not non-decreasing integers within [0, ${R}]`,
      );
    }
  });
  expectShape(kernel, "out", out.shape, [G, 2]);
  const filled = fillTemplate(source, {
    R,
    V: 1, // unused by segment_sums
    P: 1, // unused by segment_sums
    WG: 256,
    G,
    BOUNDS: bounds.map((b) => `${b}u`).join(", "),
  });
  return [
    await gpu.kernel({
      label: "cross_entropy.wgsl",
      source: filled,
      entryPoint: kernel,
      buffers: [inputs.loss, inputs.correct, out],
      workgroups: grid1d(G, 1),
    }),
  ];
}
