/**
 * Launcher for `matmul.wgsl`: `C[z] = op(A[z]) · op(B[z])`, batched and strided, specialised to
 * its shapes, with tiles chosen for the adapter and split-K where a long K would leave the GPU idle.
 * The reference is the tensor library's `matmul` (float64).
 *
 * @module
 */

import source from "./matmul.wgsl" with { type: "text" };
import rowsSource from "./matmul_rows.wgsl" with { type: "text" };
import { type Dispatch, fillTemplate, type Gpu, GpuTensor } from "../engine/gpu/mod.ts";
import { sumRows } from "./reduce.ts";
import { directFits, matmulDirect } from "./matmul_direct.ts";
import { matmulSubgroup, subgroupFits } from "./matmul_subgroup.ts";

/** A matrix operand inside a tensor: where it starts, its row stride and its batch stride. */
export interface MatmulOperand {
  tensor: GpuTensor;
  /** Element offset of the first matrix. Default 0. */
  offset?: number;
  /** Row stride in elements (the leading dimension). Default: the stored row's length. */
  ld?: number;
  /** Elements from one matrix of the batch to the next; 0 broadcasts one matrix. */
  batchStride?: number;
  /**
   * With `members` > 1 (required then): elements from one member's matrices to the next (an
   * activation's size over the members; the flat weights' member stride; 0 shares one operand).
   * The tensor is member 0's; the binding reaches the last member's.
   */
  memberStride?: number;
}

/** The product's sizes and options; what is left out is read off the tensors' shapes. */
export interface MatmulOptions {
  m?: number;
  n?: number;
  k?: number;
  /** How many products. Default: the product of C's leading dimensions, or 1 when `m` or `n`
   * is given (explicit sizes describe one product). */
  batch?: number;
  /** A is stored `[K, M]` and read transposed. */
  transA?: boolean;
  /** B is stored `[N, K]` and read transposed. */
  transB?: boolean;
  /** K split into this many chunks; default chosen by `chooseTiles`. A split product writes a
   * whole contiguous `c`. */
  splitK?: number;
  /** The tile configuration, or `"direct"` for `matmul_direct.wgsl`, `"subgroup"` for
   * `matmul_subgroup.wgsl` (their shapes only); default chosen for the adapter by `chooseTiles`. */
  tiles?: MatmulTiles | "direct" | "subgroup";
  /**
   * Models trained together (`engine/train/group_trainer.ts`): the `batch` products repeat for
   * each member, its operands `memberStride` further on. Default 1. Sizes are one member's. Every
   * kernel takes a member stride, so members get the kernel one model of their shape gets; only
   * split-K is for one member.
   */
  members?: number;
}

/** A tile configuration: BM×BN outputs a workgroup, BK deep, TM×TN an invocation. */
export interface MatmulTiles {
  BM: number;
  BN: number;
  BK: number;
  TM: number;
  TN: number;
}

/** 256 invocations of 8×8 outputs in 128×128 tiles: the most arithmetic per word loaded. */
const LARGE: MatmulTiles = { BM: 128, BN: 128, BK: 16, TM: 8, TN: 8 };
/** 64 invocations of 8×8 in 64×64 tiles: four times the workgroups, for smaller products. */
const MEDIUM: MatmulTiles = { BM: 64, BN: 64, BK: 16, TM: 8, TN: 8 };
/** 64 invocations of 4×4 in 32×32 tiles: little padding on small products. */
const SMALL: MatmulTiles = { BM: 32, BN: 32, BK: 16, TM: 4, TN: 4 };
/** 64 invocations of 4×4 in 64×16 tiles: a head's d_head columns (16 to 32) without padding. */
const NARROW: MatmulTiles = { BM: 64, BN: 16, BK: 16, TM: 4, TN: 4 };

/**
 * Each configuration's speed relative to LARGE on the same (large) work, measured on lavapipe at
 * 1024³ (LARGE 7.5, MEDIUM 6.9, SMALL 5.5 GFLOP/s; NARROW as SMALL, estimated).
 */
const TILES: [MatmulTiles, number][] = [[LARGE, 1], [MEDIUM, 0.92], [SMALL, 0.73], [NARROW, 0.7]];

/**
 * Products of at most this many rows (and no tiles asked for) run `matmul_rows.wgsl`: a tile's
 * 32 rows would be mostly padding, 20 s for GPT-2's one-row unembedding on lavapipe.
 */
const MAX_ROWS = 4;

/** Workgroups that keep a large GPU busy (an H100 has 132 multiprocessors). */
const BUSY_WORKGROUPS = 256;

/**
 * The kernel, tiles and K split for an `m×k·k×n` product (`batch` of them) on `gpu`. On a software
 * adapter with 8-lane subgroups, a product of whole tiles (M a multiple of 64, N of 32), every
 * operand vec4-aligned, gets `matmul_subgroup.wgsl` (`subgroupFits`), `"subgroup"`: about 3× the direct
 * kernel on llvmpipe at tinygpt's MLP shapes, 2× at its per-head ones (bench/RESULTS.md). Else a
 * product that `matmul_direct.wgsl` takes (`directFits`: a vec4-aligned A, one transpose at most)
 * gets it, `"direct"`: about 1.8× the tiled kernel on llvmpipe at the tinygpt shapes
 * (bench/RESULTS.md). Otherwise tiles are chosen by a small cost
 * model: the work including each tile's padding, over the tile's relative speed, stretched where
 * there are fewer workgroups than the GPU can run at once (one per core on a software adapter,
 * `BUSY_WORKGROUPS` on a hardware GPU). On a hardware GPU, K is then split so that a long, narrow
 * product (a weight gradient over many rows) still fills it.
 *
 * @example
 * ```ts ignore
 * chooseTiles(gpu, { m: 128, n: 512, k: 11490, batch: 1 }); // K split so ~256 workgroups run
 * ```
 */
export function chooseTiles(
  gpu: Pick<Gpu, "adapter" | "device">,
  shape: {
    m: number;
    n: number;
    k: number;
    batch: number;
    transA?: boolean;
    transB?: boolean;
    /** A's offset, row, batch and member strides are multiples of 4. Default false. */
    alignedA?: boolean;
    /** B's and C's are too. Default false. */
    alignedBC?: boolean;
    /** Members (`MatmulOptions.members`), `batch` products each. Default 1. */
    members?: number;
  },
): { tiles: MatmulTiles | "direct" | "subgroup"; splitK: number } {
  const { m, n, k } = shape;
  const members = shape.members ?? 1;
  const batch = shape.batch * members;
  const software = gpu.adapter.isFallback;
  const direct = {
    m,
    n,
    k,
    batch,
    transA: shape.transA ?? false,
    transB: shape.transB ?? false,
    alignedA: shape.alignedA ?? false,
  };
  const lanes = { ...direct, alignedBC: shape.alignedBC ?? false };
  if (software && subgroupFits(gpu, lanes)) return { tiles: "subgroup", splitK: 1 };
  if (software && directFits(direct)) return { tiles: "direct", splitK: 1 };
  const parallel = software ? navigator.hardwareConcurrency : BUSY_WORKGROUPS;
  const count = (t: MatmulTiles) => Math.ceil(m / t.BM) * Math.ceil(n / t.BN) * batch;
  const cost = ([t, speed]: [MatmulTiles, number]) =>
    count(t) * t.BM * t.BN / speed / Math.min(1, count(t) / parallel);
  const fits = ([t]: [MatmulTiles, number]) =>
    (t.BM + t.BN) * t.BK * 4 <= gpu.device.limits.maxComputeWorkgroupStorageSize;
  const tiles = TILES.filter(fits).reduce((best, c) => cost(c) < cost(best) ? c : best)[0];
  let splitK = 1;
  if (!software && count(tiles) < BUSY_WORKGROUPS / 2) {
    // Each chunk keeps at least 16 BK-slices, so the partials' extra traffic stays small.
    splitK = Math.max(
      1,
      Math.min(Math.ceil(BUSY_WORKGROUPS / count(tiles)), Math.floor(k / (16 * tiles.BK))),
    );
  }
  return { tiles, splitK };
}

function operand(x: GpuTensor | MatmulOperand): MatmulOperand {
  return x instanceof GpuTensor ? { tensor: x } : x;
}

/** The last two dimensions of a tensor, and the product of the rest. */
function matrixShape(t: GpuTensor): [number, number, number] {
  const s = t.shape;
  if (s.length < 2) throw new RangeError(`matmul: [${s}] is not a matrix or a batch of them`);
  return [s.slice(0, -2).reduce((a, b) => a * b, 1), s[s.length - 2]!, s[s.length - 1]!];
}

/**
 * The dispatches of `c = op(a) · op(b)`. Plain tensors are read by shape: `a` `[..., M, K]`
 * (`[..., K, M]` with `transA`), `b` `[..., K, N]` (`[..., N, K]` with `transB`), `c`
 * `[..., M, N]`; a 2D operand beside a batched one is broadcast. A `MatmulOperand` gives an
 * explicit offset, row stride and batch stride instead, e.g. one head of `[batch, pos, head, d]`.
 * Throws a `RangeError` when the shapes disagree or an operand would be read past its end.
 *
 * @example
 * ```ts ignore
 * gpu.run(await matmul(gpu, x, W_in, pre)); // [rows, d_model] · [d_model, d_mlp]
 * gpu.run(await matmul(gpu, x, dPre, dW_in, { transA: true })); // xᵀ · dpre: [d_model, d_mlp]
 * ```
 */
export async function matmul(
  gpu: Gpu,
  a: GpuTensor | MatmulOperand,
  b: GpuTensor | MatmulOperand,
  c: GpuTensor | MatmulOperand,
  options: MatmulOptions = {},
): Promise<Dispatch[]> {
  const [A, B, C] = [operand(a), operand(b), operand(c)];
  const transA = options.transA ?? false;
  const transB = options.transB ?? false;
  // What the shapes say, where the options leave a size out.
  const [za, ra, ca] = matrixShape(A.tensor);
  const [zb, rb, cb] = matrixShape(B.tensor);
  const [zc, rc, cc] = matrixShape(C.tensor);
  const m = options.m ?? rc;
  const n = options.n ?? cc;
  const k = options.k ?? (transA ? ra : ca);
  // Explicit sizes describe one product unless a batch is named too.
  const batch = options.batch ?? (options.m !== undefined || options.n !== undefined ? 1 : zc);
  if (options.m === undefined && options.k === undefined && a instanceof GpuTensor) {
    const [am, ak] = transA ? [ca, ra] : [ra, ca];
    if (am !== m || ak !== k) {
      throw new RangeError(
        `matmul: a is [${A.tensor.shape}], expected ${m}×${k}${transA ? " (transposed)" : ""}`,
      );
    }
  }
  if (options.n === undefined && options.k === undefined && b instanceof GpuTensor) {
    const [bk, bn] = transB ? [cb, rb] : [rb, cb];
    if (bk !== k || bn !== n) {
      throw new RangeError(
        `matmul: b is [${B.tensor.shape}], expected ${k}×${n}${transB ? " (transposed)" : ""}`,
      );
    }
  }
  const G = options.members ?? 1;
  const layout = (x: MatmulOperand, z: number, rows: number, cols: number, name: string) => {
    const ld = x.ld ?? cols;
    const stride = x.batchStride ?? (z === 1 && batch > 1 ? 0 : rows * ld);
    const offset = x.offset ?? 0;
    const outer = G === 1 ? 0 : x.memberStride;
    if (outer === undefined) throw new RangeError(`matmul: ${name} needs a member stride`);
    const last = offset + (G - 1) * outer + (batch - 1) * stride + (rows - 1) * ld + cols;
    // Members' operands reach past the tensor given (member 0's): bound up to the last one read.
    if (G > 1) x = { ...x, tensor: x.tensor.view(0, [Math.max(last, x.tensor.size)]) };
    if (rows > 0 && cols > 0 && last > x.tensor.size) {
      throw new RangeError(`matmul: ${name} is read up to element ${last} of its ${x.tensor.size}`);
    }
    if (ld < cols) {
      throw new RangeError(`matmul: ${name}'s row stride ${ld} is below its ${cols} columns`);
    }
    const align = offset % 4 === 0 && ld % 4 === 0 && stride % 4 === 0 && outer % 4 === 0;
    return { ld, stride, offset, outer, align, tensor: x.tensor };
  };
  const la = layout(A, za, transA ? k : m, transA ? m : k, "a");
  const lb = layout(B, zb, transB ? n : k, transB ? k : n, "b");
  const lc = layout(C, zc, m, n, "c");

  const shapes = { M: m, N: n, K: k, TRANS_A: transA, TRANS_B: transB, Z: batch };
  if (m <= MAX_ROWS && options.tiles === undefined && options.splitK === undefined) {
    const filled = fillTemplate(rowsSource, {
      ...shapes,
      ...{ OFF_A: la.offset, OFF_B: lb.offset, OFF_C: lc.offset },
      ...{ LDA: la.ld, LDB: lb.ld, LDC: lc.ld },
      ...{ STRIDE_A: la.stride, STRIDE_B: lb.stride, STRIDE_C: lc.stride },
      ...{ ALIGN_B: lb.align, ALIGN_C: lc.align },
      ...{ G, OUTER_A: la.outer, OUTER_B: lb.outer, OUTER_C: lc.outer },
    });
    return [
      await gpu.kernel({
        label: "matmul_rows.wgsl",
        source: filled,
        entryPoint: "matmul_rows",
        buffers: [la.tensor, lb.tensor, lc.tensor],
        workgroups: [Math.ceil(n / 4 / 64), m, G * batch],
      }),
    ];
  }
  // A K split asked for is the tiled kernel's (the direct one takes the A its vec4s can read).
  const alignedA = la.align && options.splitK === undefined;
  const alignedBC = lb.align && lc.align;
  const shape = { m, n, k, batch, transA, transB, alignedA, alignedBC, members: G };
  const chosen = chooseTiles(gpu, shape);
  const tiles = options.tiles ?? chosen.tiles;
  if (tiles === "direct" || tiles === "subgroup") {
    const launch = tiles === "direct" ? matmulDirect : matmulSubgroup;
    return [await launch(gpu, [la.tensor, lb.tensor, lc.tensor], shape, [la, lb, lc])];
  }
  // Partials are summed into a contiguous [batch, m, n]: a strided c is written without a split.
  const contiguousC = c instanceof GpuTensor && c.size === batch * m * n && G === 1;
  let splitK = contiguousC ? options.splitK ?? chosen.splitK : 1;
  const kChunk = Math.ceil(Math.ceil(k / splitK) / tiles.BK) * tiles.BK;
  splitK = Math.max(1, Math.ceil(k / kChunk));
  const partial = splitK > 1 ? gpu.empty([splitK, batch, m, n]) : undefined;
  const out = partial === undefined
    ? lc
    : { ld: n, stride: m * n, offset: 0, outer: 0, align: n % 4 === 0, tensor: lc.tensor };
  const filled = fillTemplate(source, {
    ...shapes,
    OFF_A: la.offset,
    OFF_B: lb.offset,
    OFF_C: out.offset,
    LDA: la.ld,
    LDB: lb.ld,
    LDC: out.ld,
    STRIDE_A: la.stride,
    STRIDE_B: lb.stride,
    STRIDE_C: out.stride,
    OUTER_A: la.outer,
    OUTER_B: lb.outer,
    OUTER_C: out.outer,
    ALIGN_A: la.align,
    ALIGN_B: lb.align,
    ALIGN_C: out.align,
    G,
    SPLIT: splitK,
    K_CHUNK: kChunk,
    ...tiles,
  });
  const product = await gpu.kernel({
    label: "matmul.wgsl",
    source: filled,
    entryPoint: "matmul",
    buffers: [la.tensor, lb.tensor, partial ?? lc.tensor],
    workgroups: [Math.ceil(n / tiles.BN), Math.ceil(m / tiles.BM), G * batch * splitK],
    ...(partial ? { scratch: [partial] } : {}),
  });
  if (partial === undefined) return [product];
  return [product, ...await sumRows(gpu, partial, C.tensor)];
}
