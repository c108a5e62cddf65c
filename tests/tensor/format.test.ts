// Printing tensors: hand-written expected text, PyTorch's layout and notation rules.
import * as assert from "node:assert/strict";
import { arange, formatTensor, tensor } from "../../engine/tensor/mod.ts";

Deno.test("format: aligned columns, one row per line, dtype last", () => {
  assert.equal(
    formatTensor(tensor([1, -2.5, 3, 4], [2, 2])),
    "tensor([[ 1.0000, -2.5000],\n        [ 3.0000,  4.0000]], f64)",
  );
  assert.equal(formatTensor(tensor([1, 22], [2], "i32")), "tensor([ 1, 22], i32)");
  assert.equal(formatTensor(tensor(3.5)), "tensor(3.5000, f64)");
  assert.equal(formatTensor(tensor([0.125], [1], "f32"), { precision: 2 }), "tensor([0.13], f32)");
  assert.equal(String(tensor([2], [1], "i32")), "tensor([2], i32)");
  assert.equal(Deno.inspect(tensor([2], [1], "i32")), "tensor([2], i32)");
});

Deno.test("format: 3-D blocks are separated by a blank line", () => {
  assert.equal(
    formatTensor(arange(8).reshape([2, 2, 2])),
    "tensor([[[0, 1],\n         [2, 3]],\n\n        [[4, 5],\n         [6, 7]]], i32)",
  );
});

Deno.test("format: scientific when magnitudes span over 1e3, non-finite values named", () => {
  assert.equal(
    formatTensor(tensor([1e-6, 1, 100])),
    "tensor([1.0000e-6, 1.0000e+0, 1.0000e+2], f64)",
  );
  assert.equal(
    formatTensor(tensor([Infinity, -Infinity, NaN, 1])),
    "tensor([   inf,   -inf,    nan, 1.0000], f64)",
  );
});

Deno.test("format: past the threshold the middle of each long dim is elided", () => {
  assert.equal(
    formatTensor(arange(2000)),
    "tensor([   0,    1,    2, ..., 1997, 1998, 1999], i32)",
  );
  assert.equal(
    formatTensor(arange(12).reshape([3, 4]), { threshold: 5, edgeItems: 1 }),
    "tensor([[ 0, ...,  3],\n        ...,\n        [ 8, ..., 11]], i32)",
  );
});

Deno.test("format: a large tensor printed whole does not overflow the stack", () => {
  const text = formatTensor(arange(200_000), { threshold: Infinity });
  assert.ok(text.startsWith("tensor([     0,      1,"));
  assert.ok(text.endsWith("199999], i32)"));
});
