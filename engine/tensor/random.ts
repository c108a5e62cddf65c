/**
 * Seeded random numbers that are the same on every machine. The core is integer-only, so a seed
 * names one stream of bits whatever the platform, and `fixtures/make_random.py` reproduces it in
 * plain Python to prove it:
 *
 * - generator: xoshiro128** 1.1 (Blackman and Vigna, "Scrambled linear pseudorandom number
 *   generators", 2018; reference code https://prng.di.unimi.it/xoshiro128starstar.c), four 32-bit
 *   words of state, period 2^128 - 1, in `Math.imul` and `>>> 0` arithmetic;
 * - seeding: the number seed, taken mod 2^64, starts a splitmix64 sequence (Steele, Lea and Flood,
 *   2014; https://prng.di.unimi.it/splitmix64.c) whose first two outputs, each split low word
 *   first, are the four state words. This is the seeding the xoshiro authors recommend, and the
 *   only place `BigInt` is used.
 *
 * Uniform floats are built from integer draws exactly (`k / 2^53`), so they too are bit-identical
 * everywhere. Normal draws go through `Math.log`, `Math.sqrt`, `Math.cos` and `Math.sin`: V8 (and
 * so Deno) computes these with its own port of fdlibm, the same on every CPU, but another engine
 * may differ in the last bit.
 *
 * @module
 */

import { allocate, type DType } from "./dtype.ts";
import { sizeOf, Tensor } from "./tensor.ts";

const TWO_POW_32 = 4294967296;
const TWO_POW_53 = 9007199254740992;
const MASK_64 = (1n << 64n) - 1n;

/** A seeded xoshiro128** stream. */
export class Rng {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  /** Box–Muller makes normals in pairs; the second waits here for the next `normal()`. */
  #spareNormal: number | undefined = undefined;

  /**
   * A stream seeded by `seed`, any safe integer (negative ones are taken mod 2^64).
   *
   * @example
   * ```ts
   * import { Rng } from "./random.ts";
   * new Rng(42).nextUint32() === new Rng(42).nextUint32(); // true
   * ```
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) {
      throw new Error(`Rng: seed must be a safe integer, got ${seed}`);
    }
    const state = { x: BigInt.asUintN(64, BigInt(seed)) };
    const a = splitmix64(state);
    const b = splitmix64(state);
    this.#s0 = Number(a & 0xffffffffn);
    this.#s1 = Number(a >> 32n);
    this.#s2 = Number(b & 0xffffffffn);
    this.#s3 = Number(b >> 32n);
  }

  /**
   * The next 32 random bits, as an integer in `[0, 2^32)`.
   *
   * @example
   * ```ts
   * import { Rng } from "./random.ts";
   * const x = new Rng(0).nextUint32(); // an integer in [0, 4294967296)
   * ```
   */
  nextUint32(): number {
    const s0 = this.#s0;
    const s1 = this.#s1;
    const s2 = this.#s2 ^ s0;
    const s3 = this.#s3 ^ s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    this.#s0 = s0 ^ s3;
    this.#s1 = s1 ^ s2;
    this.#s2 = s2 ^ (s1 << 9);
    this.#s3 = rotl(s3, 11);
    return result;
  }

  /**
   * A uniform float in `[0, 1)` with 53 random bits: 27 bits of one draw and 26 of the next, as
   * `genrand_res53` of the MT19937 reference code, so every value is a multiple of 2^-53.
   *
   * @example
   * ```ts
   * import { Rng } from "./random.ts";
   * const u = new Rng(1).uniform(); // 0 <= u < 1
   * ```
   */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / TWO_POW_53;
  }

  /**
   * A standard normal draw by the basic Box–Muller transform: from uniforms `u1, u2`,
   * `r = sqrt(-2 ln(1 - u1))` and `θ = 2π u2` give `r cos θ`, returned now, and `r sin θ`, kept
   * and returned by the next call (`1 - u1` lies in `(0, 1]`, so the logarithm is finite).
   *
   * @example
   * ```ts
   * import { Rng } from "./random.ts";
   * const z = new Rng(7).normal(); // about N(0, 1)
   * ```
   */
  normal(): number {
    const spare = this.#spareNormal;
    if (spare !== undefined) {
      this.#spareNormal = undefined;
      return spare;
    }
    const r = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const theta = 2 * Math.PI * this.uniform();
    this.#spareNormal = r * Math.sin(theta);
    return r * Math.cos(theta);
  }

  /**
   * A uniform integer in `[0, n)`, for an integer `n` in `[1, 2^32]`, without modulo bias: draws
   * at or above the largest multiple of `n` below 2^32 are rejected and drawn again.
   *
   * @example
   * ```ts
   * import { Rng } from "./random.ts";
   * const die = new Rng(3).int(6) + 1; // 1 to 6
   * ```
   */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > TWO_POW_32) {
      throw new Error(`Rng.int: n must be an integer in [1, 2^32], got ${n}`);
    }
    const limit = TWO_POW_32 - (TWO_POW_32 % n);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return x % n;
  }
}

/** Where a random function takes its numbers from: a fresh stream from `seed`, or `rng`. */
export interface RandomSource {
  /** Seeds a fresh `Rng` for this call. */
  seed?: number;
  /** A stream to draw from (and advance), to chain several calls reproducibly. */
  rng?: Rng;
}

/**
 * The stream a random function draws from: `source.rng`, or a new `Rng(source.seed)`. Exactly one
 * must be given, so that no call is silently unseeded and none is ambiguous.
 *
 * @example
 * ```ts
 * import { Rng, rngFrom } from "./random.ts";
 * const rng = new Rng(1);
 * rngFrom({ rng }, "mine") === rng; // true
 * rngFrom({ seed: 1 }, "mine").nextUint32() === new Rng(1).nextUint32(); // true
 * ```
 */
export function rngFrom(source: RandomSource, caller: string): Rng {
  if ((source.seed === undefined) === (source.rng === undefined)) {
    throw new Error(`${caller}: pass exactly one of seed and rng`);
  }
  return source.rng ?? new Rng(source.seed!);
}

/** Options of the float tensor helpers. */
export interface RandomFloatOptions extends RandomSource {
  /** `f64` (default) or `f32`. */
  dtype?: "f32" | "f64";
}

/**
 * A tensor of uniform draws in `[0, 1)`. For `f64` each is `Rng.uniform()`; for `f32` each is the
 * top 24 bits of one `nextUint32()` over 2^24, because rounding a 53-bit uniform to f32 can give
 * exactly 1.
 *
 * @example
 * ```ts
 * import { rand } from "./random.ts";
 * rand([2, 3], { seed: 0, dtype: "f32" }).shape; // [2, 3]
 * ```
 */
export function rand(shape: readonly number[], options: RandomFloatOptions): Tensor {
  const rng = rngFrom(options, "rand");
  const dtype = options.dtype ?? "f64";
  const draw = dtype === "f32" ? () => (rng.nextUint32() >>> 8) / 16777216 : () => rng.uniform();
  return filled(shape, dtype, draw);
}

/**
 * A tensor of normal draws `mean + std * Rng.normal()` (standard normal by default).
 *
 * @example
 * ```ts
 * import { randn } from "./random.ts";
 * randn([4], { seed: 0, mean: 1, std: 0.1 }).dtype; // "f64"
 * ```
 */
export function randn(
  shape: readonly number[],
  options: RandomFloatOptions & { mean?: number; std?: number },
): Tensor {
  const rng = rngFrom(options, "randn");
  const mean = options.mean ?? 0;
  const std = options.std ?? 1;
  return filled(shape, options.dtype ?? "f64", () => mean + std * rng.normal());
}

/**
 * An i32 tensor of uniform integers in `[low, high)`, each `low + Rng.int(high - low)`.
 *
 * @example
 * ```ts
 * import { randint } from "./random.ts";
 * randint(0, 10, [5], { seed: 0 }).dtype; // "i32"
 * ```
 */
export function randint(
  low: number,
  high: number,
  shape: readonly number[],
  options: RandomSource,
): Tensor {
  const ok = Number.isInteger(low) && Number.isInteger(high) && low < high &&
    low >= -2147483648 && high <= 2147483648;
  if (!ok) throw new Error(`randint: need integers low < high within i32, got [${low}, ${high})`);
  const rng = rngFrom(options, "randint");
  return filled(shape, "i32", () => low + rng.int(high - low));
}

/**
 * A uniformly random ordering of `0 .. n-1` as an i32 tensor, by the Fisher–Yates shuffle in
 * Durstenfeld's in-place form (Knuth's Algorithm P): for `i` from `n - 1` down to 1, swap entry
 * `i` with entry `Rng.int(i + 1)`.
 *
 * @example
 * ```ts
 * import { permutation } from "./random.ts";
 * [...permutation(5, { seed: 0 }).data].sort(); // [0, 1, 2, 3, 4]
 * ```
 */
export function permutation(n: number, options: RandomSource): Tensor {
  if (!Number.isInteger(n) || n < 0 || n > 2147483647) {
    throw new Error(`permutation: n must be a non-negative i32, got ${n}`);
  }
  const rng = rngFrom(options, "permutation");
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) out[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return new Tensor(out, [n]);
}

/** A tensor of `shape` filled, in row-major order, by successive `draw()`s. */
function filled(shape: readonly number[], dtype: DType, draw: () => number): Tensor {
  const out = allocate(dtype, sizeOf(shape));
  for (let i = 0; i < out.length; i++) out[i] = draw();
  return new Tensor(out, shape);
}

/** One step of splitmix64 on `state.x`, all arithmetic mod 2^64. */
function splitmix64(state: { x: bigint }): bigint {
  state.x = (state.x + 0x9e3779b97f4a7c15n) & MASK_64;
  let z = state.x;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK_64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK_64;
  return z ^ (z >> 31n);
}

/** Rotates a 32-bit word left by `k` bits. */
function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
