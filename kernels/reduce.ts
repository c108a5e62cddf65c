/**
 * Launcher for `reduce.wgsl`: sums over leading rows in a fixed order, in one or two launches.
 *
 * @module
 */

import source from "./reduce.wgsl" with { type: "text" };
import {
  type Dispatch,
  fillTemplate,
  type Gpu,
  type GpuTensor,
  grid1d,
} from "../engine/gpu/mod.ts";

/** Enough invocations to fill a large GPU; fewer would leave it idle on narrow sums. */
const TARGET_THREADS = 16384;
/** Rows below this are summed in one invocation without splitting further. */
const MIN_CHUNK = 16;

/**
 * `out[c] = Σ_r x[r, c]`, reading `x` as `R = x.size / out.size` rows of `C = out.size`: the bias
 * gradient of `[batch, pos, d]` into `[d]`, the positional one into `[pos, d]`. Long sums are split
 * into chunks whose partials a second launch adds, in the same order on every run.
 *
 * With `members` (models trained together, `engine/model/gpu/context.ts`): `x` is `count` members'
 * rows one after another, `out` member 0's sums and member g's `g · stride` elements on; each
 * member's sum is the one model's, in the same order, in the same launches.
 *
 * @example
 * ```ts ignore
 * gpu.run(await sumRows(gpu, dOut, dBias)); // [rows, C] -> [C]
 * ```
 */
export async function sumRows(
  gpu: Gpu,
  x: GpuTensor,
  out: GpuTensor,
  members: { count: number; stride: number } = { count: 1, stride: 0 },
): Promise<Dispatch[]> {
  const G = members.count;
  const C = out.size;
  const R = x.size / G / C;
  if (!Number.isInteger(R) || R < 1) {
    throw new RangeError(`sum_rows: [${x.shape}] is not whole rows of ${G} × [${out.shape}]`);
  }
  // Members' sums reach past `out` (member 0's): bind up to the last one written.
  const target = G === 1 ? out : out.view(0, [(G - 1) * members.stride + C]);
  const splits = Math.max(1, Math.min(Math.ceil(TARGET_THREADS / C), Math.ceil(R / MIN_CHUNK)));
  const chunk = Math.ceil(R / splits);
  const S = Math.ceil(R / chunk);
  const launch = (input: GpuTensor, output: GpuTensor, rows: number, rowsPerChunk: number) => {
    const outStride = output === target ? members.stride : Math.ceil(rows / rowsPerChunk) * C;
    return gpu.kernel({
      label: "reduce.wgsl",
      source: fillTemplate(source, {
        R: rows,
        C,
        CHUNK: rowsPerChunk,
        G,
        X_STRIDE: rows * C,
        OUT_STRIDE: G === 1 ? 0 : outStride,
      }),
      entryPoint: "sum_rows",
      buffers: [input, output],
      workgroups: grid1d(G * Math.ceil(rows / rowsPerChunk) * C, 256),
      ...(output === target ? {} : { scratch: [output] }),
    });
  };
  if (S === 1) return [await launch(x, target, R, R)];
  const partial = gpu.empty([G, S, C]);
  return [await launch(x, partial, R, chunk), await launch(partial, target, S, S)];
}
