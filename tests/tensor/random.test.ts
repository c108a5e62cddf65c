// The seeded generator against an independent Python version (fixtures/make_random.py, itself
// checked against splitmix64's published outputs), and its distributions against statistical
// bounds stated in each test. Every statistical test uses a fixed seed, so it is deterministic;
// the bounds (5 standard errors, chi-square at p = 1e-6) say a correct generator passes for
// practically every seed, while a biased one fails.
import * as assert from "node:assert/strict";
import { permutation, rand, randint, randn, Rng, rngFrom } from "../../engine/tensor/mod.ts";
import { assertClose, loadFixture } from "../helpers.ts";

interface RandomFixture {
  uint32: { seed: number; values: number[] }[];
  negative_seed: { seed: number; values: number[] };
  uniform_numerators: number[];
  normal: number[];
  int6: number[];
  int_big: { n: number; values: number[] };
  rand_f32_numerators: number[];
  randint: { low: number; high: number; values: number[] };
  permutation10: number[];
}

const fx = await loadFixture<RandomFixture>("random");
const N = 100_000;

function draws(n: number, draw: () => number): number[] {
  return Array.from({ length: n }, draw);
}

/** The chi-square statistic of `counts` against equal expected counts. */
function chiSquareUniform(counts: readonly number[]): number {
  const total = counts.reduce((a, b) => a + b, 0);
  const expected = total / counts.length;
  return counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
}

Deno.test("nextUint32 matches the Python reference for three seeds", () => {
  for (const { seed, values } of fx.uint32) {
    const rng = new Rng(seed);
    assert.deepEqual(draws(values.length, () => rng.nextUint32()), values, `seed ${seed}`);
  }
});

Deno.test("a negative seed is taken mod 2^64", () => {
  const rng = new Rng(fx.negative_seed.seed);
  assert.deepEqual(draws(5, () => rng.nextUint32()), fx.negative_seed.values);
});

Deno.test("uniform is exactly k / 2^53 with the reference's k", () => {
  const rng = new Rng(42);
  const expected = fx.uniform_numerators.map((k) => k / 2 ** 53);
  assert.deepEqual(draws(expected.length, () => rng.uniform()), expected);
});

Deno.test("normal matches the Python Box–Muller to 1e-14, spare included", () => {
  const rng = new Rng(42);
  assertClose(draws(fx.normal.length, () => rng.normal()), fx.normal, 1e-14, "normal");
});

Deno.test("int matches the reference, with and without rejections", () => {
  const a = new Rng(7);
  assert.deepEqual(draws(fx.int6.length, () => a.int(6)), fx.int6);
  const b = new Rng(7);
  assert.deepEqual(draws(fx.int_big.values.length, () => b.int(fx.int_big.n)), fx.int_big.values);
});

Deno.test("rand, randint and permutation match the reference", () => {
  const f32 = rand([2, 3], { seed: 5, dtype: "f32" });
  assert.equal(f32.dtype, "f32");
  assert.deepEqual([...f32.data], fx.rand_f32_numerators.map((k) => k / 2 ** 24));
  const f64 = rand([5], { seed: 42 });
  assert.deepEqual([...f64.data], fx.uniform_numerators.slice(0, 5).map((k) => k / 2 ** 53));
  const { low, high, values } = fx.randint;
  const ints = randint(low, high, [3, 4], { seed: 11 });
  assert.equal(ints.dtype, "i32");
  assert.deepEqual(ints.shape, [3, 4]);
  assert.deepEqual([...ints.data], values);
  const perm = permutation(10, { seed: 42 });
  assert.equal(perm.dtype, "i32");
  assert.deepEqual([...perm.data], fx.permutation10);
});

Deno.test("randn is mean + std * normal, drawn from a shared rng in order", () => {
  const expected = fx.normal.slice(0, 6).map((z) => 3 + 0.5 * z);
  const rng = new Rng(42);
  const first = randn([2], { rng, mean: 3, std: 0.5 });
  const rest = randn([2, 2], { rng, mean: 3, std: 0.5 });
  assertClose([...first.data, ...rest.data], expected, 1e-13, "randn");
  assert.equal(randn([3], { seed: 1, dtype: "f32" }).dtype, "f32");
});

Deno.test("uniform: mean and variance over 1e5 draws within 5 standard errors", () => {
  const rng = new Rng(2024);
  const x = draws(N, () => rng.uniform());
  assert.ok(x.every((v) => v >= 0 && v < 1));
  const mean = x.reduce((a, b) => a + b, 0) / N;
  const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / N;
  // U(0,1): mean 1/2, variance 1/12; SE of the mean sqrt(1/12/N), of the variance
  // sqrt((mu4 - sigma^4) / N) = sqrt((1/80 - 1/144) / N).
  assert.ok(Math.abs(mean - 0.5) < 5 * Math.sqrt(1 / 12 / N), `mean ${mean}`);
  assert.ok(Math.abs(variance - 1 / 12) < 5 * Math.sqrt((1 / 80 - 1 / 144) / N), `var ${variance}`);
});

Deno.test("f32 rand stays below 1 and has the uniform mean", () => {
  const x = rand([N], { seed: 9, dtype: "f32" }).data;
  let s = 0;
  for (const v of x) {
    assert.ok(v >= 0 && v < 1);
    s += v;
  }
  assert.ok(Math.abs(s / N - 0.5) < 5 * Math.sqrt(1 / 12 / N), `mean ${s / N}`);
});

Deno.test("normal: mean, std and the |x| > 3 tail over 1e5 draws within 5 standard errors", () => {
  const x = randn([N], { seed: 77 }).data;
  let s = 0;
  let s2 = 0;
  let tail = 0;
  for (const v of x) {
    s += v;
    s2 += v * v;
    if (Math.abs(v) > 3) tail++;
  }
  const mean = s / N;
  const std = Math.sqrt(s2 / N - mean * mean);
  // SE of the mean 1/sqrt(N), of the std about 1/sqrt(2N); P(|Z| > 3) = 0.0026998 (two-sided),
  // so the tail count is binomial with that p.
  assert.ok(Math.abs(mean) < 5 / Math.sqrt(N), `mean ${mean}`);
  assert.ok(Math.abs(std - 1) < 5 / Math.sqrt(2 * N), `std ${std}`);
  const p = 0.0026998;
  assert.ok(Math.abs(tail - N * p) < 5 * Math.sqrt(N * p * (1 - p)), `tail count ${tail}`);
});

Deno.test("int(10): chi-square over 1e5 draws below 44.8 (df 9, p = 1e-6)", () => {
  const rng = new Rng(31);
  const counts = new Array<number>(10).fill(0);
  for (let i = 0; i < N; i++) counts[rng.int(10)]!++;
  const chi2 = chiSquareUniform(counts);
  assert.ok(chi2 < 44.8, `chi-square ${chi2}, counts ${counts}`);
});

Deno.test("int(3 * 2^30) has no modulo bias: thirds chi-square below 27.6 (df 2, p = 1e-6)", () => {
  // Plain `x % n` would put half of all draws in the first third.
  const rng = new Rng(5);
  const n = 3 * 2 ** 30;
  const counts = [0, 0, 0];
  for (let i = 0; i < N; i++) counts[Math.floor(rng.int(n) / 2 ** 30)]!++;
  const chi2 = chiSquareUniform(counts);
  assert.ok(chi2 < 27.6, `chi-square ${chi2}, counts ${counts}`);
});

Deno.test("permutation is a permutation, and its first entry is uniform within 5 SD", () => {
  assert.deepEqual([...permutation(0, { seed: 1 }).data], []);
  assert.deepEqual([...permutation(1, { seed: 1 }).data], [0]);
  const rng = new Rng(8);
  const trials = 20_000;
  const first = new Array<number>(10).fill(0);
  for (let t = 0; t < trials; t++) {
    const p = [...permutation(10, { rng }).data];
    assert.deepEqual([...p].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    first[p[0]!]!++;
  }
  const sd = Math.sqrt(trials * 0.1 * 0.9);
  for (const c of first) assert.ok(Math.abs(c - trials / 10) < 5 * sd, `counts ${first}`);
});

Deno.test("a seed gives a fresh stream; an rng is advanced and shared", () => {
  assert.deepEqual([...rand([4], { seed: 3 }).data], [...rand([4], { seed: 3 }).data]);
  assert.notDeepEqual([...rand([4], { seed: 3 }).data], [...rand([4], { seed: 4 }).data]);
  const rng = new Rng(3);
  const a = rand([2], { rng });
  const b = rand([2], { rng });
  assert.deepEqual([...a.data, ...b.data], [...rand([4], { seed: 3 }).data]);
  assert.equal(rngFrom({ rng }, "x"), rng);
});

Deno.test("errors", () => {
  assert.throws(() => new Rng(1.5), /^Error: Rng: seed must be a safe integer, got 1.5$/);
  assert.throws(() => new Rng(2 ** 53), /Rng: seed must be a safe integer, got 9007199254740992/);
  const rng = new Rng(0);
  assert.throws(() => rng.int(0), /Rng.int: n must be an integer in \[1, 2\^32\], got 0/);
  assert.throws(() => rng.int(2.5), /Rng.int: n must be an integer in \[1, 2\^32\], got 2.5/);
  assert.throws(() => rng.int(2 ** 32 + 1), /got 4294967297/);
  assert.throws(() => rand([2], {}), /rand: pass exactly one of seed and rng/);
  assert.throws(() => randn([2], { seed: 1, rng }), /randn: pass exactly one of seed and rng/);
  assert.throws(
    () => randint(3, 3, [2], { seed: 1 }),
    /randint: need integers low < high within i32, got \[3, 3\)/,
  );
  assert.throws(() => randint(0, 2 ** 31 + 1, [2], { seed: 1 }), /randint: need integers/);
  assert.throws(() => randint(0.5, 2, [2], { seed: 1 }), /randint: need integers/);
  assert.throws(
    () => permutation(-1, { seed: 1 }),
    /permutation: n must be a non-negative i32, got -1/,
  );
  assert.throws(() => permutation(3, {}), /permutation: pass exactly one of seed and rng/);
});
