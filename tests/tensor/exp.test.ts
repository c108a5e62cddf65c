// The WebAssembly SIMD exp against Math.exp (float64): within 2 ulp of f32 (relative 2^-23) over
// exp's f32 range, exactly 0 below -87.3 and for -Infinity, any length and offset.
import * as assert from "node:assert/strict";
import { expRange } from "../../engine/tensor/exp_wasm.ts";
import { Rng } from "../../engine/tensor/mod.ts";

Deno.test("expRange: within 2 ulp of exp over [-87, 88], lengths off the 4-lane vector", () => {
  const rng = new Rng(13);
  for (const n of [1, 2, 3, 4, 5, 7, 64, 1001]) {
    const x = Float32Array.from({ length: n }, () => -87 + 175 * rng.uniform());
    const y = Float32Array.from(x);
    expRange(y, 0, n);
    for (let i = 0; i < n; i++) {
      const want = Math.exp(x[i]!);
      assert.ok(Math.abs(y[i]! - want) <= 2 ** -23 * want, `exp(${x[i]}) = ${y[i]}, not ${want}`);
    }
  }
});

Deno.test("expRange: scale and shift, 0 below -87.3 and at -Infinity, outside the range untouched", () => {
  const x = new Float32Array([9, 0, 1, 2, -Infinity, -100, -87.5, 9]);
  expRange(x, 1, 7, { scale: 2, shift: 1 }); // exp(2x - 1) on x[1 .. 6]
  assert.equal(x[0], 9);
  assert.equal(x[7], 9);
  for (const [i, want] of [[1, Math.exp(-1)], [2, Math.exp(1)], [3, Math.exp(3)]] as const) {
    assert.ok(Math.abs(x[i]! - want) <= 2 ** -23 * want, `x[${i}] = ${x[i]}`);
  }
  assert.deepEqual([...x.subarray(4, 7)], [0, 0, 0]);
  expRange(x, 3, 3); // empty: nothing happens
  assert.ok(Math.abs(x[3]! - Math.exp(3)) <= 2 ** -23 * Math.exp(3));
});
