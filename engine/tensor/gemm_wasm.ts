/**
 * The matrix-product kernel behind `matmul`: WebAssembly SIMD, generated here byte by byte.
 *
 * Scalar JavaScript has no vector instructions and tops out near 4 GFLOP/s; a WebAssembly kernel
 * working on `f64x2` vectors runs several times faster on the same core, and every Deno has it.
 * The kernel is written as bytes by the small emitter below rather than shipped as a `.wasm` blob,
 * so it is read and reviewed like any other source, and no assembler is needed to build it.
 *
 * Shape letters: M rows of A and C, K the contracted dim, N columns of B and C.
 *
 * The kernel computes a 4×4 block of C at a time in eight `f64x2` accumulators: for each p it
 * loads four columns of B (two vectors) and splats each of four A values, 16 multiply-adds per 6
 * loads. Both operands are first packed into panels of 4 (`A` as `[M/4][K][4]`, `B` as
 * `[N/4][K][4]`), zero-padded at the edges, so the inner loop reads memory in one forward sweep
 * and never strides by a power of two (which made an unpacked 512³ product twice as slow).
 * Each C element is the sum over p in order, of a product rounded then added, exactly as the
 * textbook loop in double precision: the result does not depend on the blocking.
 *
 * @module
 */

import type { TypedArray } from "./dtype.ts";

/** Bytes of WebAssembly memory one packed product may use before it is split into chunks. */
const CHUNK_BYTES = 64 * 1024 * 1024;

const memory = new WebAssembly.Memory({ initial: 1 });
type Kernel = (a: number, b: number, c: number, m4: number, k: number, n4: number) => void;
/** Compiled on first use (a fraction of a millisecond), so importing the library costs nothing. */
let kernel: Kernel | undefined;

/** One product `C[m, n] = A[m, k] @ B[k, n]` of row-major blocks at element offsets. */
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
}

/**
 * Runs `job`, accumulating in double precision and storing (rounded once) into C's dtype. Large
 * products run in chunks of rows and columns so the kernel's memory stays near `chunkBytes`.
 *
 * @example
 * ```ts
 * import { gemm } from "./gemm_wasm.ts";
 * const C = new Float64Array(4);
 * const A = new Float64Array([1, 2, 3, 4]);
 * const B = new Float64Array([5, 6, 7, 8]);
 * gemm({ A, offA: 0, B, offB: 0, C, offC: 0, m: 2, k: 2, n: 2 });
 * C; // Float64Array [19, 22, 43, 50]
 * ```
 */
export function gemm(job: GemmJob, options: { chunkBytes?: number } = {}): void {
  const { m, k, n } = job;
  if (m === 0 || n === 0) return;
  if (k === 0) {
    job.C.fill(0, job.offC, job.offC + m * n);
    return;
  }
  const slots = (options.chunkBytes ?? CHUNK_BYTES) / 8;
  // Rows first: as many as fit in half the budget with their whole K; then columns in the rest.
  const rows = Math.max(4, roundDown4(Math.min(roundUp4(m), slots / 2 / k)));
  const cols = Math.max(4, roundDown4(Math.min(roundUp4(n), (slots - rows * k) / (k + rows))));
  for (let i0 = 0; i0 < m; i0 += rows) {
    for (let j0 = 0; j0 < n; j0 += cols) {
      multiplyBlock(job, { i0, j0, m: Math.min(rows, m - i0), n: Math.min(cols, n - j0) });
    }
  }
}

/** One chunk: pack its rows of A and columns of B into the kernel's memory, run, unpack C. */
function multiplyBlock(
  { A, offA, B, offB, C, offC, k, n }: GemmJob,
  block: { i0: number; j0: number; m: number; n: number },
): void {
  const m4 = roundUp4(block.m);
  const n4 = roundUp4(block.n);
  const [a, b, c] = [0, m4 * k, m4 * k + k * n4]; // element offsets in the kernel's memory
  const need = (c + m4 * n4) * 8;
  if (need > memory.buffer.byteLength) {
    memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
  }
  const mem = new Float64Array(memory.buffer);
  mem.fill(0, 0, c); // the zero padding of partial panels
  for (let i = 0; i < block.m; i++) {
    const src = offA + (block.i0 + i) * k;
    const dst = a + (i >> 2) * k * 4 + (i & 3);
    for (let p = 0; p < k; p++) mem[dst + p * 4] = A[src + p]!;
  }
  for (let p = 0; p < k; p++) {
    const src = offB + p * n + block.j0;
    const dst = b + p * 4;
    for (let j = 0; j < block.n; j++) mem[dst + (j >> 2) * k * 4 + (j & 3)] = B[src + j]!;
  }
  kernel ??= new WebAssembly.Instance(new WebAssembly.Module(kernelModule()), { env: { memory } })
    .exports.gemm as Kernel;
  kernel(a * 8, b * 8, c * 8, m4, k, n4);
  for (let i = 0; i < block.m; i++) {
    const from = c + i * n4;
    C.set(mem.subarray(from, from + block.n), offC + (block.i0 + i) * n + block.j0);
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

function roundUp4(x: number): number {
  return Math.ceil(x / 4) * 4;
}

function roundDown4(x: number): number {
  return Math.floor(x / 4) * 4;
}

// ---------------------------------------------------------------------------------------------
// The emitter: just enough of the WebAssembly binary format for one function.

const I32 = 0x7f;
const V128 = 0x7b;

/** The module: imports `env.memory`, exports `gemm(a, b, c, m4, k, n4)` (byte offsets, sizes). */
function kernelModule(): Uint8Array<ArrayBuffer> {
  const locals = new Locals(6);
  const [A, B, C, M4, K, N4] = [0, 1, 2, 3, 4, 5];
  const i = locals.add(I32), j = locals.add(I32), p = locals.add(I32);
  const ap = locals.add(I32), bp = locals.add(I32), cp = locals.add(I32);
  const rowBytes = locals.add(I32);
  // acc[2r], acc[2r + 1]: row r of the 4×4 block of C, columns 0-1 and 2-3.
  const acc = Array.from({ length: 8 }, () => locals.add(V128));
  const [b0, b1, av] = [locals.add(V128), locals.add(V128), locals.add(V128)];

  // deno-fmt-ignore
  const body = [
    ...get(N4), ...i32(8), MUL, ...set(rowBytes),
    ...i32(0), ...set(j),
    ...loop([ // over panels of 4 columns
      ...i32(0), ...set(i),
      ...loop([ // over panels of 4 rows
        ...acc.flatMap((x) => [...V128_ZERO, ...set(x)]),
        ...get(A), ...get(i), ...get(K), MUL, ...i32(8), MUL, ADD, ...set(ap),
        ...get(B), ...get(j), ...get(K), MUL, ...i32(8), MUL, ADD, ...set(bp),
        ...i32(0), ...set(p),
        ...loop([ // over p: 16 multiply-adds
          ...get(bp), ...v128Load(0), ...set(b0),
          ...get(bp), ...v128Load(16), ...set(b1),
          ...[0, 1, 2, 3].flatMap((r) => [
            ...get(ap), ...f64Load(8 * r), ...F64X2_SPLAT, ...tee(av),
            ...get(b0), ...F64X2_MUL, ...get(acc[2 * r]!), ...F64X2_ADD, ...set(acc[2 * r]!),
            ...get(av), ...get(b1), ...F64X2_MUL, ...get(acc[2 * r + 1]!), ...F64X2_ADD,
            ...set(acc[2 * r + 1]!),
          ]),
          ...increment(ap, i32(32)),
          ...increment(bp, i32(32)),
          ...increment(p, i32(1)),
          ...get(p), ...get(K), LT_U, ...brIf(0),
        ]),
        ...get(C), ...get(i), ...get(rowBytes), MUL, ADD, ...get(j), ...i32(8), MUL, ADD,
        ...set(cp),
        ...[0, 1, 2, 3].flatMap((r) => [
          ...get(cp), ...get(acc[2 * r]!), ...v128Store(0),
          ...get(cp), ...get(acc[2 * r + 1]!), ...v128Store(16),
          ...increment(cp, get(rowBytes)),
        ]),
        ...increment(i, i32(4)),
        ...get(i), ...get(M4), LT_U, ...brIf(0),
      ]),
      ...increment(j, i32(4)),
      ...get(j), ...get(N4), LT_U, ...brIf(0),
    ]),
    END,
  ];

  const code = [...locals.declare(), ...body];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, vector([[0x60, ...vector(Array(6).fill([I32])), 0x00]])), // (i32 ×6) -> ()
    ...section(2, vector([[...name("env"), ...name("memory"), 0x02, 0x00, 0x01]])),
    ...section(3, vector([[0x00]])), // function 0 has type 0
    ...section(7, vector([[...name("gemm"), 0x00, 0x00]])),
    ...section(10, vector([[...uleb(code.length), ...code]])),
  ]);
}

/** Numbers the locals after the parameters and declares their types, one entry each. */
class Locals {
  #types: number[] = [];
  #params: number;
  constructor(params: number) {
    this.#params = params;
  }
  add(type: number): number {
    this.#types.push(type);
    return this.#params + this.#types.length - 1;
  }
  declare(): number[] {
    return vector(this.#types.map((type) => [0x01, type]));
  }
}

const ADD = 0x6a; // i32.add
const MUL = 0x6c; // i32.mul
const LT_U = 0x49; // i32.lt_u
const END = 0x0b;
const simd = (op: number, ...immediates: number[]) => [0xfd, ...uleb(op), ...immediates];
const V128_ZERO = simd(0x0c, ...Array(16).fill(0)); // v128.const 0
const F64X2_SPLAT = simd(0x14);
const F64X2_ADD = simd(0xf0);
const F64X2_MUL = simd(0xf2);
const v128Load = (offset: number) => simd(0x00, 4, ...uleb(offset)); // align 2^4
const v128Store = (offset: number) => simd(0x0b, 4, ...uleb(offset));
const f64Load = (offset: number) => [0x2b, 3, ...uleb(offset)]; // align 2^3
const get = (local: number) => [0x20, ...uleb(local)];
const set = (local: number) => [0x21, ...uleb(local)];
const tee = (local: number) => [0x22, ...uleb(local)];
const i32 = (value: number) => [0x41, ...sleb(value)];
const brIf = (depth: number) => [0x0d, ...uleb(depth)];
const increment = (local: number, by: number[]) => [...get(local), ...by, ADD, ...set(local)];
/** A `loop` block that runs its body once, then again each time the body's `br_if 0` is taken. */
const loop = (body: number[]) => [0x03, 0x40, ...body, END];
const section = (id: number, body: number[]) => [id, ...uleb(body.length), ...body];
const vector = (items: number[][]) => [...uleb(items.length), ...items.flat()];
const name = (s: string) => vector([...new TextEncoder().encode(s)].map((b) => [b]));

function uleb(value: number): number[] {
  const out: number[] = [];
  do {
    const byte = value & 0x7f;
    value >>>= 7;
    out.push(value === 0 ? byte : byte | 0x80);
  } while (value !== 0);
  return out;
}

function sleb(value: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    if ((value === 0 && !(byte & 0x40)) || (value === -1 && byte & 0x40)) return [...out, byte];
    out.push(byte | 0x80);
  }
}
