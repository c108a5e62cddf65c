// PCA of the embedding against what PCA must satisfy, computed here without the library's SVD:
// the explained fractions are each coordinate column's variance over the total variance of W_E's
// columns, all components together reproduce the centred rows' Gram matrix, and points on a line
// have all their variance in one component, at their signed distance from the mean.
import * as assert from "node:assert/strict";
import { embeddingPca } from "../../engine/analysis/embedding.ts";
import { Rng, Tensor } from "../../engine/tensor/mod.ts";
import { assertClose } from "../helpers.ts";

const [V, D] = [20, 6];
const rng = new Rng(31);
// Columns of different spreads so the components are well separated.
const W_E = Float64Array.from({ length: V * D }, (_, i) => (1 + (i % D)) * rng.normal() + 0.5);
const weights = new Map([["embed.W_E", new Tensor(W_E, [V, D])]]);

/** The rows of `W_E` minus the column means. */
function centred(): number[][] {
  const mean = Array.from({ length: D }, (_, d) => {
    let s = 0;
    for (let v = 0; v < V; v++) s += W_E[v * D + d]!;
    return s / V;
  });
  return Array.from({ length: V }, (_, v) => mean.map((m, d) => W_E[v * D + d]! - m));
}

/** Σ over rows of `x[i] · y[i]`. */
function dot(x: number[], y: number[]): number {
  return x.reduce((a, xi, i) => a + xi * y[i]!, 0);
}

Deno.test("embeddingPca: fractions are the coordinates' variances over the total", () => {
  const X = centred();
  const total = X.reduce((a, row) => a + dot(row, row), 0);
  const { explained, coords } = embeddingPca(weights, 3);
  assert.equal(explained.length, 3);
  assert.equal(coords.length, V);
  const sum = explained.reduce((a, e) => a + e, 0);
  assert.ok(sum <= 1 && sum > 0.5, `Σ explained = ${sum}`);
  for (let i = 1; i < 3; i++) assert.ok(explained[i]! <= explained[i - 1]!, "descending");
  const column = (k: number) => coords.map((c) => c[k]!);
  const fractions = [0, 1, 2].map((k) => dot(column(k), column(k)) / total);
  assertClose(explained, fractions, 1e-12, "explained vs coordinate variance");
  // Distinct components are uncorrelated.
  assert.ok(Math.abs(dot(column(0), column(1))) < 1e-9 * total, "columns orthogonal");
});

Deno.test("embeddingPca: every component together reproduces the centred rows", () => {
  const X = centred();
  const { explained, coords } = embeddingPca(weights, D);
  assertClose([explained.reduce((a, e) => a + e, 0)], [1], 1e-12, "Σ explained at k = d_model");
  // An orthonormal change of basis keeps every inner product: coords·coordsᵀ = X·Xᵀ.
  const got: number[] = [];
  const want: number[] = [];
  for (let i = 0; i < V; i++) {
    for (let j = 0; j < V; j++) {
      got.push(dot(coords[i]!, coords[j]!));
      want.push(dot(X[i]!, X[j]!));
    }
  }
  assertClose(got, want, 1e-10, "Gram matrix");
});

Deno.test("embeddingPca: points on a line, in f32", () => {
  // Rows a + t·u with u = (0.6, 0.8): distances from the mean (t̄ = 1) are t - 1.
  const t = [-2, 0, 1, 5];
  const rows = t.flatMap((s) => [2 + 0.6 * s, -1 + 0.8 * s]);
  const line = new Map([["embed.W_E", new Tensor(Float32Array.from(rows), [4, 2])]]);
  const { explained, coords } = embeddingPca(line, 2);
  assertClose(explained, [1, 0], 1e-7, "explained");
  const first = coords.map((c) => c[0]!);
  const sign = Math.sign(first[3]!);
  assertClose(first.map((x) => sign * x), t.map((s) => s - 1), 1e-6, "coordinates");
  assertClose(coords.map((c) => c[1]!), [0, 0, 0, 0], 1e-6, "off the line");
  assert.throws(() => embeddingPca(line, 3), /out of range/);
});
