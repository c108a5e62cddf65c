/**
 * Launchers for `flash_attention.wgsl`: causal attention from `q, k, v` (`[batch, pos, head,
 * d_head]`, as `attention.ts` takes them) to `z` and the per-row logsumexp `lse` (`[batch, head,
 * pos]`), tiled with an online softmax so that no `[batch, head, pos, pos]` buffer exists in the
 * forward or the backward (FlashAttention-2's schedule). The backward recomputes the pattern from
 * `lse`. The float64 reference is `engine/reference/attention.ts` (`attentionLogsumexp` for `lse`).
 *
 * @module
 */

import source from "./flash_attention.wgsl" with { type: "text" };
import directSource from "./flash_attention_direct.wgsl" with { type: "text" };
import subgroupSource from "./flash_attention_subgroup.wgsl" with { type: "text" };
import {
  type Dispatch,
  expectShape,
  fillTemplate,
  type Gpu,
  type GpuTensor,
  grid1d,
} from "../engine/gpu/mod.ts";
import {
  attentionDims,
  type AttentionGrads,
  type AttentionInputs,
  type AttentionOptions,
  scaleLiteral,
} from "./attention.ts";

/** Where `flashAttentionForward` writes: `z` like `q`, `lse` `[batch, head, pos]`. */
export interface FlashAttentionOutputs {
  z: GpuTensor;
  /** The log of each softmax row's normaliser, `log Σ_j≤i exp(scale · q_i·k_j)`: the backward's. */
  lse: GpuTensor;
}

/** What `flashAttentionBackward` reads: the forward's inputs and outputs, and `dz` like `z`. */
export interface FlashAttentionSaved extends AttentionInputs {
  z: GpuTensor;
  lse: GpuTensor;
  dz: GpuTensor;
}

/**
 * Query (or key) rows per workgroup, one per invocation. 32 keeps T = 1,024 at 32 tiles per head
 * and a ragged last tile cheap; larger tiles reuse each loaded tile more but idle more lanes.
 */
const ROWS = 32;
/** The most rows of the other operand held in workgroup memory at once (fewer when E is large). */
const MAX_COLS = 32;
/** Workgroup size of the 1D `flash_attention_backward_delta`. */
const WG = 256;
/** Workgroup size of `flash_attention_direct.wgsl`'s 1D entry points. */
const DIRECT_WG = 64;
/**
 * Rows a lane of `flash_attention_subgroup.wgsl` owns (its R; a workgroup's 8 lanes own 8R), per
 * entry point: the fastest of 1, 2 and 4 on lavapipe at tinygpt's shape (bench/RESULTS.md). The key
 * side keeps twice the rows a lane (k, v and both sums), so 4 spills there.
 */
const LANE_ROWS = {
  flash_attention_forward: 4,
  flash_attention_backward_query: 4,
  flash_attention_backward_key: 2,
};

/**
 * The kernel that runs `entryPoint` (a forward's or a backward's row kernel) for `q`'s shape, with
 * its launch grid: on a software adapter when d_head is a multiple of 4,
 * `flash_attention_subgroup.wgsl` (a tile of rows a subgroup, the other side's rows shared by
 * broadcast) where subgroups are 8 wide, else `flash_attention_direct.wgsl` (an invocation per row,
 * no workgroup memory or barrier, vec4 loads); elsewhere the tiled `flash_attention.wgsl`. All
 * three bind alike. `kernel` names the caller in errors.
 */
function rowKernel(
  gpu: Gpu,
  [kernel, entryPoint]: [string, keyof typeof LANE_ROWS],
  shape: readonly number[],
  options: AttentionOptions,
) {
  const [B, T, H, E] = shape as [number, number, number, number];
  if (gpu.adapter.isFallback && E % 4 === 0) {
    const SCALE = scaleLiteral(kernel, E, options);
    // Only for heads up to 32 wide: at GPT-2's d_head 64 llvmpipe's compile of its forward raised
    // the process's peak by 73 MiB (R = 4; 13 at R = 1) for no faster forward than the direct one.
    if (gpu.adapter.subgroupSize === 8 && E <= 32) {
      const R = LANE_ROWS[entryPoint];
      return {
        label: "flash_attention_subgroup.wgsl",
        source: fillTemplate(subgroupSource, {
          B,
          T,
          H,
          E,
          SCALE,
          R,
          ONES: Array(R).fill("1.0").join(", "),
        }),
        entryPoint,
        workgroups: grid1d(B * H * Math.ceil(T / (8 * R)), 1),
      };
    }
    return {
      label: "flash_attention_direct.wgsl",
      source: fillTemplate(directSource, { B, T, H, E, SCALE }),
      entryPoint,
      workgroups: grid1d(B * H * T, DIRECT_WG),
    };
  }
  return {
    label: "flash_attention.wgsl",
    source: filled(gpu, kernel, shape, options),
    entryPoint,
    workgroups: tiles(B, T, H),
  };
}

/**
 * The template filled for `q`'s shape. COLS is as many rows as fit twice (two `[COLS, E]` tiles)
 * plus two per-row values in the device's workgroup memory, at most MAX_COLS.
 */
function filled(gpu: Gpu, kernel: string, shape: readonly number[], options: AttentionOptions) {
  const [B, T, H, E] = shape as [number, number, number, number];
  const SCALE = scaleLiteral(kernel, E, options);
  const bytes = gpu.device.limits.maxComputeWorkgroupStorageSize;
  const COLS = Math.min(MAX_COLS, Math.floor(bytes / (8 * (E + 1))));
  if (COLS < 1) {
    throw new RangeError(`${kernel}: d_head ${E} does not fit ${bytes} bytes of workgroup memory`);
  }
  return fillTemplate(source, {
    B,
    T,
    H,
    E,
    SCALE,
    ROWS,
    COLS,
  });
}

/**
 * One workgroup per (row tile, head, batch row): `[T tiles, H, B]`, or where B passes WebGPU's
 * 65,535 per dimension, B folded as `batch_of` reads it: `[T tiles, H · Y, ⌈B / Y⌉]`, the Y
 * blocks of y each a run of z (the last ones past B return at once).
 */
function tiles(B: number, T: number, H: number): [number, number, number] {
  const Y = Math.ceil(B / 65535);
  return [Math.ceil(T / ROWS), H * Y, Math.ceil(B / Y)];
}

/**
 * Causal attention forward without the pattern: `z_i = Σ_j≤i softmax_j(scale · q_i·k_j) v_j` and
 * `lse_i = log Σ_j≤i exp(scale · q_i·k_j)`, per batch and head. One workgroup per 32 query rows
 * walks the key tiles up to the diagonal, keeping a running max and sum per row (on a software
 * adapter, a subgroup per tile of rows or an invocation per row walks the keys: `rowKernel`).
 *
 * @example
 * ```ts ignore
 * // q, k, v, z: [B, T, H, E]; lse: [B, H, T]
 * gpu.run(await flashAttentionForward(gpu, { q, k, v }, { z, lse }));
 * ```
 */
export async function flashAttentionForward(
  gpu: Gpu,
  inputs: AttentionInputs,
  outputs: FlashAttentionOutputs,
  options: AttentionOptions = {},
): Promise<Dispatch[]> {
  const name = "flash_attention_forward";
  const [B, T, H] = attentionDims(name, inputs.q);
  expectShape(name, "k", inputs.k.shape, inputs.q.shape);
  expectShape(name, "v", inputs.v.shape, inputs.q.shape);
  expectShape(name, "z", outputs.z.shape, inputs.q.shape);
  expectShape(name, "lse", outputs.lse.shape, [B, H, T]);
  return [
    await gpu.kernel({
      ...rowKernel(gpu, [name, name], inputs.q.shape, options),
      buffers: [inputs.q, inputs.k, inputs.v, outputs.z, outputs.lse],
    }),
  ];
}

/**
 * Causal attention backward from `lse` instead of the pattern, in three deterministic launches:
 * `delta_i = dz_i·z_i` into a `[B, H, T]` scratch; per query tile, `dq`; per key tile, `dk` and
 * `dv` (so no output row is summed by two workgroups and no atomics are needed). The scratch is
 * the first dispatch's: free it with `releaseDispatches`. `dq, dk, dv` are overwritten.
 *
 * @example
 * ```ts ignore
 * const backward = await flashAttentionBackward(gpu, { q, k, v, z, lse, dz }, { dq, dk, dv });
 * gpu.run(backward);
 * releaseDispatches(backward);
 * ```
 */
export async function flashAttentionBackward(
  gpu: Gpu,
  saved: FlashAttentionSaved,
  grads: AttentionGrads,
  options: AttentionOptions = {},
): Promise<Dispatch[]> {
  const name = "flash_attention_backward";
  const { q, k, v, z, lse, dz } = saved;
  const [B, T, H] = attentionDims(name, q);
  for (const [operand, t] of [["k", k], ["v", v], ["z", z], ["dz", dz]] as const) {
    expectShape(name, operand, t.shape, q.shape);
  }
  expectShape(name, "lse", lse.shape, [B, H, T]);
  for (const [operand, t] of [["dq", grads.dq], ["dk", grads.dk], ["dv", grads.dv]] as const) {
    expectShape(name, operand, t.shape, q.shape);
  }
  const query = rowKernel(gpu, [name, "flash_attention_backward_query"], q.shape, options);
  const key = rowKernel(gpu, [name, "flash_attention_backward_key"], q.shape, options);
  const delta = gpu.empty([B, H, T]);
  try {
    return [
      await gpu.kernel({
        label: "flash_attention.wgsl",
        source: filled(gpu, name, q.shape, options),
        entryPoint: "flash_attention_backward_delta",
        buffers: [dz, z, delta],
        workgroups: grid1d(B * H * T, WG),
        scratch: [delta],
      }),
      await gpu.kernel({
        ...query,
        buffers: [q, k, v, dz, lse, delta, grads.dq],
      }),
      await gpu.kernel({
        ...key,
        buffers: [q, k, v, dz, lse, delta, grads.dk, grads.dv],
      }),
    ];
  } catch (e) {
    delta.release();
    throw e;
  }
}
