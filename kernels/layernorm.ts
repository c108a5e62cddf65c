/**
 * Launchers for `layernorm.wgsl`: TransformerLens' LayerNorm over the last dimension D of `x`
 * (every leading index is a row), forward saving each row's `mean` and `scale` = sqrt(var + eps),
 * and backward giving `dx`, `dw` and `db` deterministically (per-chunk partials finished by
 * `sumRows`). The float64 reference is `engine/reference/layernorm.ts`.
 *
 * @module
 */

import source from "./layernorm.wgsl" with { type: "text" };
import {
  type Dispatch,
  expectShape,
  fillTemplate,
  type Gpu,
  type GpuTensor,
  grid1d,
} from "../engine/gpu/mod.ts";
import {
  LAYERNORM_EPS,
  type LayerNormGrads,
  type LayerNormOptions,
  type LayerNormOutput,
  type LayerNormSaved,
} from "../engine/reference/layernorm.ts";
import { sumRows } from "./reduce.ts";

export type { LayerNormGrads, LayerNormOptions, LayerNormOutput, LayerNormSaved };

/** Settings of the backward launch. */
export interface LayerNormBackwardOptions {
  /**
   * Rows each workgroup takes in order, adding their `dw`, `db` contributions into one partial
   * row. Default: enough to make about 1024 workgroups (1 for up to 1024 rows), 8 a core on a
   * software adapter.
   */
  rowsPerWorkgroup?: number;
  /** Add the input gradient into `grads.dx` (a residual stream's gradient) instead of overwriting it. */
  accumulate?: boolean;
}

/**
 * Workgroups the backward aims for by default: enough to fill a large GPU; on a software adapter
 * (a workgroup per CPU thread at a time, each barrier a switch between its SIMD groups) a few per
 * core, so that each sums many rows into its partials. The forward takes as many rows a workgroup
 * there too (each invocation's columns of w and b loaded once for them all), one on a GPU.
 */
function targetWorkgroups(gpu: Gpu): number {
  return gpu.adapter.isFallback ? 8 * navigator.hardwareConcurrency : 1024;
}

/**
 * D, the number of rows, and the workgroup size for `x`; checks `x` has rows to normalize. On a
 * hardware GPU one invocation per column up to 256, a power of two for the tree sum, at least a
 * warp; on a software adapter one 8-wide SIMD group (llvmpipe runs a workgroup's invocations 8 at
 * a time on one thread, so a wider one only adds barrier switches: 10× slower at D = 128).
 */
function geometry(gpu: Gpu, kernel: string, x: GpuTensor): { D: number; R: number; WG: number } {
  const D = x.shape[x.shape.length - 1] ?? 0;
  if (x.shape.length < 1 || D < 1 || x.size < 1) {
    throw new RangeError(`${kernel}: x has shape [${x.shape}], expected [...rows, D] with D ≥ 1`);
  }
  const WG = gpu.adapter.isFallback ? 8 : Math.min(256, Math.max(32, 2 ** Math.ceil(Math.log2(D))));
  return { D, R: x.size / D, WG };
}

/**
 * LayerNorm's forward pass: `out.y = (x − mean) / scale · w + b` over the last dimension, saving
 * `out.mean` and `out.scale` (`x`'s shape without D) for the backward. `w`, `b` are `[D]`; `out.y`
 * has `x`'s shape. `eps` defaults to 1e-5 (TransformerLens').
 *
 * @example
 * ```ts ignore
 * const out = { y: gpu.empty([B, T, D]), mean: gpu.empty([B, T]), scale: gpu.empty([B, T]) };
 * gpu.run(await layernormForward(gpu, resid, w, b, out, { eps: 1e-5 }));
 * ```
 */
export async function layernormForward(
  gpu: Gpu,
  x: GpuTensor,
  w: GpuTensor,
  b: GpuTensor,
  out: LayerNormOutput<GpuTensor>,
  options: LayerNormOptions = {},
): Promise<Dispatch[]> {
  const kernel = "layernorm_forward";
  const { D, R, WG } = geometry(gpu, kernel, x);
  const eps = options.eps ?? LAYERNORM_EPS;
  if (!Number.isFinite(eps) || eps < 0) {
    throw new RangeError(`${kernel}: eps must be finite and ≥ 0, got ${eps}`);
  }
  const rows = x.shape.slice(0, -1);
  expectShape(kernel, "w", w.shape, [D]);
  expectShape(kernel, "b", b.shape, [D]);
  expectShape(kernel, "y", out.y.shape, x.shape);
  expectShape(kernel, "mean", out.mean.shape, rows);
  expectShape(kernel, "scale", out.scale.shape, rows);
  const chunk = gpu.adapter.isFallback ? Math.ceil(R / targetWorkgroups(gpu)) : 1;
  return [
    await gpu.kernel({
      label: "layernorm.wgsl",
      source: fillTemplate(source, { R, D, EPS: String(eps), WG, CHUNK: chunk, ACCUMULATE: false }),
      entryPoint: kernel,
      buffers: [x, w, b, out.y, out.mean, out.scale],
      workgroups: grid1d(Math.ceil(R / chunk), 1),
    }),
  ];
}

/**
 * LayerNorm's backward pass: from `dy` (`x`'s shape) and the forward's `saved.mean` and
 * `saved.scale` (the forward's `out` object serves), writes `grads.dx` (`x`'s shape; with
 * `accumulate`, adds into it) and `grads.dw`, `grads.db` (`[D]`, summed over rows in a fixed
 * order). `dw` and `db` are overwritten, not accumulated.
 *
 * @example
 * ```ts ignore
 * const grads = { dx: gpu.empty([B, T, D]), dw: gpu.empty([D]), db: gpu.empty([D]) };
 * const backward = await layernormBackward(gpu, resid, w, out, dy, grads);
 * gpu.run(backward);
 * releaseDispatches(backward); // the dw, db partials, once it will not run again
 * ```
 */
export async function layernormBackward(
  gpu: Gpu,
  x: GpuTensor,
  w: GpuTensor,
  saved: LayerNormSaved<GpuTensor>,
  dy: GpuTensor,
  grads: LayerNormGrads<GpuTensor>,
  options: LayerNormBackwardOptions = {},
): Promise<Dispatch[]> {
  const kernel = "layernorm_backward";
  const { D, R, WG } = geometry(gpu, kernel, x);
  const rows = x.shape.slice(0, -1);
  expectShape(kernel, "w", w.shape, [D]);
  expectShape(kernel, "mean", saved.mean.shape, rows);
  expectShape(kernel, "scale", saved.scale.shape, rows);
  expectShape(kernel, "dy", dy.shape, x.shape);
  expectShape(kernel, "dx", grads.dx.shape, x.shape);
  expectShape(kernel, "dw", grads.dw.shape, [D]);
  expectShape(kernel, "db", grads.db.shape, [D]);
  const chunk = options.rowsPerWorkgroup ?? Math.ceil(R / targetWorkgroups(gpu));
  if (!Number.isInteger(chunk) || chunk < 1) {
    throw new RangeError(`${kernel}: rowsPerWorkgroup must be a positive integer, got ${chunk}`);
  }
  const S = Math.ceil(R / chunk);
  // One chunk: its partials are the sums themselves.
  const [dwPart, dbPart] = S === 1 ? [grads.dw, grads.db] : [gpu.empty([S, D]), gpu.empty([S, D])];
  const main = await gpu.kernel({
    label: "layernorm.wgsl",
    source: fillTemplate(source, {
      R,
      D,
      EPS: 0,
      WG,
      CHUNK: chunk,
      ACCUMULATE: options.accumulate ?? false,
    }),
    entryPoint: kernel,
    buffers: [x, w, dy, saved.mean, saved.scale, grads.dx, dwPart, dbPart],
    workgroups: grid1d(S, 1),
    ...(S === 1 ? {} : { scratch: [dwPart, dbPart] }),
  });
  if (S === 1) return [main];
  return [main, ...await sumRows(gpu, dwPart, grads.dw), ...await sumRows(gpu, dbPart, grads.db)];
}
