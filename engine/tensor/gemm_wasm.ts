/**
 * The matrix-product kernel behind `matmul`: WebAssembly SIMD, generated here byte by byte.
 *
 * Scalar JavaScript has no vector instructions and tops out near 4 GFLOP/s; a WebAssembly kernel
 * working on `f64x2` vectors runs several times faster on the same core, and every Deno has it.
 * The kernel is written as bytes by the small emitter of `wasm_emit.ts` rather than shipped as a
 * `.wasm` blob, so it is read and reviewed like any other source, and no assembler is needed.
 *
 * Shape letters: M rows of A and C, K the contracted dim, N columns of B and C.
 *
 * The f64 kernel computes a 4×4 block of C at a time in eight `f64x2` accumulators: for each p
 * it loads four columns of B (two vectors) and splats each of four A values, 16 multiply-adds per
 * 6 loads. Both operands are first packed into panels (`A` as `[M/4][K][4]`, `B` as
 * `[N/4][K][4]`), zero-padded at the edges, so the inner loop reads memory in one forward sweep
 * and never strides by a power of two (which made an unpacked 512³ product twice as slow).
 * Each C element is the sum over p in order, of a product rounded then added, exactly as the
 * textbook loop in double precision: the result does not depend on the blocking.
 *
 * The f32 kernel (`precision: "f32"`, for the f32 CPU model) is the same loop on `f32x4`
 * vectors with 6×8 blocks: twelve accumulators, which with two B vectors and one splat fill the
 * 16 SIMD registers of x86-64 without spilling. It multiplies and adds with relaxed SIMD's
 * `f32x4.relaxed_madd`, a fused multiply-add on CPUs that have one (about 1.2× the speed of a
 * separate multiply and add here): on one machine the result is the same every run, but the last
 * bit may differ between machines, and a runtime without relaxed SIMD gets the unfused kernel. The packing reads either operand through row and
 * column strides, so transposed operands (`Aᵀ @ B`, `A @ Bᵀ` of a backward pass) cost no copy.
 *
 * @module
 */

import type { TypedArray } from "./dtype.ts";
import { Locals, wasm } from "./wasm_emit.ts";

const { I32, V128, ADD, MUL, LT_U, END, V128_ZERO, simd, v128Load, v128Store } = wasm;
const { get, set, i32, brIf, increment, loop, oneFunctionModule, uleb } = wasm;

/**
 * Bytes of WebAssembly memory one packed product may use before it is split into chunks. The
 * memory never shrinks, so this is held for the process's life once a product needs it: 16 MiB
 * (not 64) kept GPT-2 small's CPU forward under 2× its weights, and a chunk of that size still
 * does hundreds of multiply-adds per value it packs.
 */
const CHUNK_BYTES = 16 * 1024 * 1024;

/**
 * The two kernels: `f64` (the default) accumulates in double precision, bit for bit the textbook
 * loop; `f32` works on `f32x4` vectors, twice the lanes, for the f32 training path
 * (`engine/model/cpu_fast/`), and accumulates in single precision.
 */
export type GemmPrecision = "f64" | "f32";

/** How each precision's kernel is laid out: R rows by NB columns of C per block. */
interface Precision {
  bytes: number;
  /** Rows of A per packed panel (rows of the C block). */
  R: number;
  /** Columns of B per packed panel (two vectors). */
  NB: number;
  splat: number[];
  add: number[];
  mul: number[];
  /** `a * b + c` in one instruction, where the precision uses one. */
  madd?: number[];
  load: (offset: number) => number[];
}

const memory = new WebAssembly.Memory({ initial: 1 });
type Kernel = (a: number, b: number, c: number, mR: number, k: number, nNB: number) => void;
/** Compiled on first use (a fraction of a millisecond), so importing the library costs nothing. */
const kernels = new Map<GemmPrecision, Kernel>();

/**
 * One product `C[m, n] (+)= A[m, k] @ B[k, n]` of blocks at element offsets. By default each
 * operand is row-major and dense; `strideA` and `strideB` (element steps of a row and of a
 * column) read it in any other layout, so `[1, m]` reads A transposed, and `ldc` is C's row step.
 */
export interface GemmJob {
  A: TypedArray;
  offA: number;
  B: TypedArray;
  offB: number;
  C: TypedArray;
  offC: number;
  m: number;
  k: number;
  n: number;
  /** `[row, column]` element steps of A; default `[k, 1]`. */
  strideA?: readonly [number, number];
  /** `[row, column]` element steps of B; default `[n, 1]`. */
  strideB?: readonly [number, number];
  /** Element step between C's rows; default `n`. */
  ldc?: number;
  /** Add the product to C instead of overwriting it; default false. */
  accumulate?: boolean;
}

/**
 * Runs `job`, accumulating in `precision` (default f64) and storing (rounded once) into C's
 * dtype. Large products run in chunks of rows and columns so the kernel's memory stays near
 * `chunkBytes`.
 *
 * @example
 * ```ts
 * import { gemm } from "./gemm_wasm.ts";
 * const C = new Float64Array(4);
 * const A = new Float64Array([1, 2, 3, 4]);
 * const B = new Float64Array([5, 6, 7, 8]);
 * gemm({ A, offA: 0, B, offB: 0, C, offC: 0, m: 2, k: 2, n: 2 });
 * C; // Float64Array [19, 22, 43, 50]
 * gemm({ A, offA: 0, B, offB: 0, C, offC: 0, m: 2, k: 2, n: 2, strideA: [1, 2] }); // Aᵀ @ B
 * C; // Float64Array [26, 30, 38, 44]
 * ```
 */
export function gemm(
  job: GemmJob,
  options: { chunkBytes?: number; precision?: GemmPrecision } = {},
): void {
  const { m, k, n } = job;
  if (m === 0 || n === 0) return;
  const ldc = job.ldc ?? n;
  if (k === 0) {
    if (!job.accumulate) {
      for (let i = 0; i < m; i++) job.C.fill(0, job.offC + i * ldc, job.offC + i * ldc + n);
    }
    return;
  }
  const precision = options.precision ?? "f64";
  const P = PRECISIONS[precision];
  const slots = (options.chunkBytes ?? CHUNK_BYTES) / P.bytes;
  // Rows first: as many as fit in half the budget with their whole K; then columns in the rest.
  const rows = Math.max(P.R, roundDown(Math.min(roundUp(m, P.R), slots / 2 / k), P.R));
  const cols = Math.max(
    P.NB,
    roundDown(Math.min(roundUp(n, P.NB), (slots - rows * k) / (k + rows)), P.NB),
  );
  const kernel = kernelFor(precision);
  const full = {
    ...job,
    strideA: job.strideA ?? [k, 1] as const,
    strideB: job.strideB ?? [n, 1] as const,
    ldc,
  };
  for (let i0 = 0; i0 < m; i0 += rows) {
    for (let j0 = 0; j0 < n; j0 += cols) {
      const block = { i0, j0, m: Math.min(rows, m - i0), n: Math.min(cols, n - j0) };
      multiplyBlock(full, block, P, kernel);
    }
  }
}

/** The kernel of `precision`, compiled on first use. */
function kernelFor(precision: GemmPrecision): Kernel {
  let kernel = kernels.get(precision);
  if (kernel === undefined) {
    const P = PRECISIONS[precision];
    let module: WebAssembly.Module;
    try {
      module = new WebAssembly.Module(kernelModule(P));
    } catch (e) {
      // A runtime without relaxed SIMD: the same kernel with a separate multiply and add.
      if (P.madd === undefined) throw e;
      const { madd: _, ...unfused } = P;
      module = new WebAssembly.Module(kernelModule(unfused));
    }
    kernel = new WebAssembly.Instance(module, { env: { memory } }).exports.gemm as Kernel;
    kernels.set(precision, kernel);
  }
  return kernel;
}

type FullJob = Required<Omit<GemmJob, "accumulate">> & { accumulate?: boolean };

/** One chunk: pack its rows of A and columns of B into the kernel's memory, run, unpack C. */
function multiplyBlock(
  job: FullJob,
  block: { i0: number; j0: number; m: number; n: number },
  { bytes, R, NB }: Precision,
  kernel: Kernel,
): void {
  const { A, B, C, k, ldc } = job;
  const mR = roundUp(block.m, R);
  const nNB = roundUp(block.n, NB);
  const [a, b, c] = [0, mR * k, mR * k + k * nNB]; // element offsets in the kernel's memory
  const need = (c + mR * nNB) * bytes;
  if (need > memory.buffer.byteLength) {
    memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
  }
  const mem = bytes === 8 ? new Float64Array(memory.buffer) : new Float32Array(memory.buffer);
  // A as [mR/R][k][R] and B as [nNB/NB][k][NB]; each loop nest reads its operand's contiguous
  // axis innermost, and only the padding of the last panels is zeroed.
  const [ra, ca] = job.strideA;
  const offA = job.offA + block.i0 * ra;
  for (let i0 = 0; i0 < block.m; i0 += R) {
    const rows = Math.min(R, block.m - i0);
    const panel = a + i0 * k;
    if (rows < R) {
      for (let p = 0; p < k; p++) mem.fill(0, panel + p * R + rows, panel + p * R + R);
    }
    if (ca <= ra) {
      for (let r = 0; r < rows; r++) {
        const src = offA + (i0 + r) * ra;
        for (let p = 0; p < k; p++) mem[panel + p * R + r] = A[src + p * ca]!;
      }
    } else {
      for (let p = 0; p < k; p++) {
        const src = offA + p * ca + i0 * ra;
        const dst = panel + p * R;
        for (let r = 0; r < rows; r++) mem[dst + r] = A[src + r * ra]!;
      }
    }
  }
  const [rb, cb] = job.strideB;
  const offB = job.offB + block.j0 * cb;
  for (let j0 = 0; j0 < block.n; j0 += NB) {
    const cols = Math.min(NB, block.n - j0);
    const panel = b + j0 * k;
    if (cols < NB) {
      for (let p = 0; p < k; p++) mem.fill(0, panel + p * NB + cols, panel + p * NB + NB);
    }
    if (cb <= rb) {
      for (let p = 0; p < k; p++) {
        const src = offB + p * rb + j0 * cb;
        const dst = panel + p * NB;
        for (let j = 0; j < cols; j++) mem[dst + j] = B[src + j * cb]!;
      }
    } else {
      for (let j = 0; j < cols; j++) {
        const src = offB + (j0 + j) * cb;
        for (let p = 0; p < k; p++) mem[panel + p * NB + j] = B[src + p * rb]!;
      }
    }
  }
  kernel(a * bytes, b * bytes, c * bytes, mR, k, nNB);
  for (let i = 0; i < block.m; i++) {
    const from = c + i * nNB;
    const to = job.offC + (block.i0 + i) * ldc + block.j0;
    if (job.accumulate) {
      for (let j = 0; j < block.n; j++) C[to + j] = C[to + j]! + mem[from + j]!;
    } else {
      C.set(mem.subarray(from, from + block.n), to);
    }
  }
}

/**
 * The textbook i-j-p loop, `C[i, j] = sum_p A[i, p] * B[p, j]` with p in order: what the kernel
 * must equal bit for bit (the tests hold it to that), and the floor the benchmark measures it over.
 *
 * @example
 * ```ts
 * import { naiveGemm } from "./gemm_wasm.ts";
 * naiveGemm(new Float64Array([1, 2, 3, 4]), new Float64Array([5, 6, 7, 8]), { m: 2, k: 2, n: 2 });
 * // Float64Array [19, 22, 43, 50]
 * ```
 */
export function naiveGemm(
  A: ArrayLike<number>,
  B: ArrayLike<number>,
  { m, k, n }: { m: number; k: number; n: number },
): Float64Array {
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += A[i * k + p]! * B[p * n + j]!;
      C[i * n + j] = s;
    }
  }
  return C;
}

function roundUp(x: number, q: number): number {
  return Math.ceil(x / q) * q;
}

function roundDown(x: number, q: number): number {
  return Math.floor(x / q) * q;
}

/**
 * The module: imports `env.memory`, exports `gemm(a, b, c, mR, k, nNB)` (byte offsets, sizes).
 * For each p it loads NB columns of B (two vectors) and splats each of R A values into
 * `acc[2r]`, `acc[2r + 1]`, row r of the R×NB block of C.
 */
function kernelModule(
  { bytes, R, splat, add, mul, madd, load }: Precision,
): Uint8Array<ArrayBuffer> {
  const locals = new Locals(6);
  const [A, B, C, MR, K, NNB] = [0, 1, 2, 3, 4, 5];
  const i = locals.add(I32), j = locals.add(I32), p = locals.add(I32);
  const ap = locals.add(I32), bp = locals.add(I32), cp = locals.add(I32);
  const rowBytes = locals.add(I32);
  const acc = Array.from({ length: 2 * R }, () => locals.add(V128));
  const [b0, b1, av] = [locals.add(V128), locals.add(V128), locals.add(V128)];
  const rows = Array.from({ length: R }, (_, r) => r);
  /** `acc += av * b`: fused where the precision has a fused multiply-add. */
  const multiplyAdd = (b: number, acc: number) =>
    madd === undefined
      ? [...get(av), ...get(b), ...mul, ...get(acc), ...add, ...set(acc)]
      : [...get(av), ...get(b), ...get(acc), ...madd, ...set(acc)];

  // deno-fmt-ignore
  const body = [
    ...get(NNB), ...i32(bytes), MUL, ...set(rowBytes),
    ...i32(0), ...set(j),
    ...loop([ // over panels of NB columns
      ...i32(0), ...set(i),
      ...loop([ // over panels of R rows
        ...acc.flatMap((x) => [...V128_ZERO, ...set(x)]),
        ...get(A), ...get(i), ...get(K), MUL, ...i32(bytes), MUL, ADD, ...set(ap),
        ...get(B), ...get(j), ...get(K), MUL, ...i32(bytes), MUL, ADD, ...set(bp),
        ...i32(0), ...set(p),
        ...loop([ // over p: 2R vector multiply-adds
          ...get(bp), ...v128Load(0), ...set(b0),
          ...get(bp), ...v128Load(16), ...set(b1),
          ...rows.flatMap((r) => [
            ...get(ap), ...load(bytes * r), ...splat, ...set(av),
            ...multiplyAdd(b0, acc[2 * r]!),
            ...multiplyAdd(b1, acc[2 * r + 1]!),
          ]),
          ...increment(ap, i32(bytes * R)),
          ...increment(bp, i32(32)),
          ...increment(p, i32(1)),
          ...get(p), ...get(K), LT_U, ...brIf(0),
        ]),
        ...get(C), ...get(i), ...get(rowBytes), MUL, ADD, ...get(j), ...i32(bytes), MUL, ADD,
        ...set(cp),
        ...rows.flatMap((r) => [
          ...get(cp), ...get(acc[2 * r]!), ...v128Store(0),
          ...get(cp), ...get(acc[2 * r + 1]!), ...v128Store(16),
          ...increment(cp, get(rowBytes)),
        ]),
        ...increment(i, i32(R)),
        ...get(i), ...get(MR), LT_U, ...brIf(0),
      ]),
      ...increment(j, i32(32 / bytes)),
      ...get(j), ...get(NNB), LT_U, ...brIf(0),
    ]),
    END,
  ];

  return oneFunctionModule("gemm", Array(6).fill(I32), [...locals.declare(), ...body]);
}

/** f64: 4×4 blocks of `f64x2`; f32: 6×8 blocks of `f32x4` (12 accumulators, 15 registers). */
const PRECISIONS: Record<GemmPrecision, Precision> = {
  f64: {
    bytes: 8,
    R: 4,
    NB: 4,
    splat: simd(0x14),
    add: simd(0xf0),
    mul: simd(0xf2),
    load: (offset) => [0x2b, 3, ...uleb(offset)], // f64.load, align 2^3
  },
  f32: {
    bytes: 4,
    R: 6,
    NB: 8,
    splat: simd(0x13),
    add: simd(0xe4),
    mul: simd(0xe6),
    madd: simd(0x105), // f32x4.relaxed_madd
    load: (offset) => [0x2a, 2, ...uleb(offset)], // f32.load, align 2^2
  },
};
