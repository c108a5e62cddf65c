// The Fourier basis against the grokking paper's construction (fixtures/make_fourier.py), hand
// values, and naive loops for the changes of basis.
import * as assert from "node:assert/strict";
import {
  eye,
  fourier1d,
  fourier2d,
  fourierBasis,
  fourierBasisNames,
  matmul,
  randn,
  Tensor,
  tensor,
  transpose,
} from "../../engine/tensor/mod.ts";
import { assertClose, type FixtureArray, fromFixture, loadFixture } from "../helpers.ts";

type FourierFixture = Record<"p7" | "p8", FixtureArray & { names: string[] }>;
const fixture = await loadFixture<FourierFixture>("fourier");

Deno.test("the basis is orthonormal for odd and even p", () => {
  for (const p of [113, 7, 8, 1, 2]) {
    const F = fourierBasis(p);
    assert.deepEqual([F.shape, F.dtype], [[p, p], "f64"]);
    assertClose(matmul(F, transpose(F)), eye(p), 1e-12, `F Fᵀ for p = ${p}`);
  }
});

Deno.test("the basis matches the grokking paper's construction for p = 7 and 8", () => {
  for (const key of ["p7", "p8"] as const) {
    const expected = fixture[key];
    const p = expected.shape[0]!;
    assertClose(fourierBasis(p), fromFixture(expected), 1e-14, `basis ${key}`);
    assert.deepEqual(fourierBasisNames(p), expected.names);
  }
});

Deno.test("the basis for p = 4 by hand", () => {
  const h = Math.SQRT1_2;
  const expected = [
    [0.5, 0.5, 0.5, 0.5],
    [h, 0, -h, 0],
    [0, h, 0, -h],
    [0.5, -0.5, 0.5, -0.5],
  ];
  assertClose(fourierBasis(4), expected.flat(), 1e-15, "p = 4");
  assert.deepEqual(fourierBasisNames(4), ["const", "cos 1", "sin 1", "cos 2"]);
  assert.deepEqual(fourierBasisNames(1), ["const"]);
});

Deno.test("the basis rejects p that is not a positive integer", () => {
  assert.throws(
    () => fourierBasis(0),
    /^Error: fourierBasis: p must be a positive integer, got 0$/,
  );
  assert.throws(
    () => fourierBasisNames(2.5),
    /^Error: fourierBasisNames: p must be a positive integer, got 2.5$/,
  );
});

Deno.test("fourier2d equals the naive four-loop sum F[a,x] F[b,y] t[x,y,...]", () => {
  for (const [p, rest] of [[5, [2, 3]], [6, []], [4, [1]]] as [number, number[]][]) {
    const r = rest.reduce((a, b) => a * b, 1);
    const t = randn([p, p, ...rest], { seed: p });
    const F = fourierBasis(p);
    const expected = new Float64Array(p * p * r);
    for (let a = 0; a < p; a++) {
      for (let b = 0; b < p; b++) {
        for (let x = 0; x < p; x++) {
          for (let y = 0; y < p; y++) {
            const w = F.get(a, x) * F.get(b, y);
            for (let c = 0; c < r; c++) {
              expected[(a * p + b) * r + c]! += w * t.data[(x * p + y) * r + c]!;
            }
          }
        }
      }
    }
    assertClose(fourier2d(t), new Tensor(expected, [p, p, ...rest]), 1e-13, `p = ${p}`);
  }
  assert.throws(
    () => fourier2d(randn([3, 4], { seed: 1 })),
    /^Error: fourier2d: expected a \[p, p, \.\.\.\] tensor, got shape \[3,4\]$/,
  );
  assert.throws(
    () => fourier2d(tensor([1, 2])),
    /^Error: fourier2d: expected a \[p, p, \.\.\.\] tensor, got shape \[2\]$/,
  );
});

Deno.test("fourier1d on a middle axis equals the loop over that axis", () => {
  const [m, p, n] = [2, 5, 3];
  const t = randn([m, p, n], { seed: 2, dtype: "f32" });
  const F = fourierBasis(p);
  const expected = new Float64Array(m * p * n);
  for (let i = 0; i < m; i++) {
    for (let a = 0; a < p; a++) {
      for (let x = 0; x < p; x++) {
        for (let j = 0; j < n; j++) {
          expected[(i * p + a) * n + j]! += F.get(a, x) * t.get(i, x, j);
        }
      }
    }
  }
  const out = fourier1d(t, -2);
  assert.equal(out.dtype, "f64");
  assertClose(out, new Tensor(expected, [m, p, n]), 1e-14, "fourier1d axis 1");
});

Deno.test("a pure cos(2π·3x/p) over x lands entirely on the 'cos 3' row", () => {
  const p = 11;
  const names = fourierBasisNames(p);
  const cos3 = names.indexOf("cos 3");
  const wave = Array.from({ length: p }, (_, x) => Math.cos((2 * Math.PI * 3 * x) / p));
  // As a vector: all of its norm, √(p/2), on "cos 3".
  const spectrum = fourier1d(tensor(wave));
  assertClose(
    spectrum,
    names.map((_, i) => (i === cos3 ? Math.sqrt(p / 2) : 0)),
    1e-13,
    "1-D spectrum",
  );
  // Over x, constant over y, times a weight per channel: on (cos 3, const) in every channel.
  const weights = [2, -1];
  const grid = tensor(
    wave.flatMap((w) => Array.from({ length: p }, () => weights.map((c) => c * w)).flat()),
    [p, p, 2],
  );
  const out = fourier2d(grid);
  for (let a = 0; a < p; a++) {
    for (let b = 0; b < p; b++) {
      weights.forEach((c, k) => {
        const want = a === cos3 && b === 0 ? c * Math.sqrt(p / 2) * Math.sqrt(p) : 0;
        assert.ok(
          Math.abs(out.get(a, b, k) - want) <= 1e-12,
          `(${names[a]}, ${names[b]}, ${k}): ${out.get(a, b, k)} vs ${want}`,
        );
      });
    }
  }
});
