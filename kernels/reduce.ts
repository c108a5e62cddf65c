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
 * @example
 * ```ts ignore
 * gpu.run(await sumRows(gpu, dOut, dBias)); // [rows, C] -> [C]
 * ```
 */
export async function sumRows(gpu: Gpu, x: GpuTensor, out: GpuTensor): Promise<Dispatch[]> {
  const C = out.size;
  const R = x.size / C;
  if (!Number.isInteger(R) || R < 1) {
    throw new RangeError(`sum_rows: [${x.shape}] is not whole rows of [${out.shape}]`);
  }
  const splits = Math.max(1, Math.min(Math.ceil(TARGET_THREADS / C), Math.ceil(R / MIN_CHUNK)));
  const chunk = Math.ceil(R / splits);
  const S = Math.ceil(R / chunk);
  const launch = (input: GpuTensor, output: GpuTensor, rows: number, rowsPerChunk: number) =>
    gpu.kernel({
      label: "reduce.wgsl",
      source: fillTemplate(source, { R: rows, C, CHUNK: rowsPerChunk }),
      entryPoint: "sum_rows",
      buffers: [input, output],
      workgroups: grid1d(Math.ceil(rows / rowsPerChunk) * C, 256),
      ...(output === out ? {} : { scratch: [output] }),
    });
  if (S === 1) return [await launch(x, out, R, R)];
  const partial = gpu.empty([S, C]);
  return [await launch(x, partial, R, chunk), await launch(partial, out, S, S)];
}
