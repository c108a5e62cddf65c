/**
 * Elementwise maths with numpy broadcasting. Binary operations accept tensors or plain numbers; a
 * number takes the dtype of the tensor beside it (as numpy's and PyTorch's "weak" scalars), so
 * `mul(x, 2)` of an f32 `x` stays f32. Results follow `promote` in `dtype.ts`; true division and
 * the transcendental functions of integers give f64. Integer arithmetic wraps modulo 2³², as in C,
 * WGSL and numpy's int32 (products through `Math.imul`, so no bits are lost to f64 rounding).
 *
 * @module
 */

import { allocate, type DType, floatOf, promote } from "./dtype.ts";
import { sizeOf, Tensor } from "./tensor.ts";
import { broadcastLoop, broadcastShapes, broadcastStrides } from "./view.ts";

/** A tensor or a scalar. */
export type Operand = Tensor | number;

/**
 * Applies `fn` elementwise to two broadcast operands, giving a tensor of `dtype` (by default the
 * promoted dtype of the two). The building block of every binary operation here.
 *
 * @example
 * ```ts
 * import { binary } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * binary(tensor([1, 5]), tensor([3, 2]), Math.max).toArray(); // Float64Array [3, 5]
 * ```
 */
export function binary(
  a: Operand,
  b: Operand,
  fn: (x: number, y: number) => number,
  dtype?: DType,
): Tensor {
  const ta = asTensor(a, b);
  const tb = asTensor(b, a);
  const out = dtype ?? promote(ta.dtype, tb.dtype);
  const shape = broadcastShapes(ta.shape, tb.shape);
  const n = sizeOf(shape);
  const res = allocate(out, n);
  const x = ta.data;
  const y = tb.data;
  if (x.length === n && y.length === n) {
    for (let i = 0; i < n; i++) res[i] = fn(x[i]!, y[i]!);
  } else if (y.length === 1 && x.length === n) {
    const s = y[0]!;
    for (let i = 0; i < n; i++) res[i] = fn(x[i]!, s);
  } else if (x.length === 1 && y.length === n) {
    const s = x[0]!;
    for (let i = 0; i < n; i++) res[i] = fn(s, y[i]!);
  } else {
    broadcastLoop(
      shape,
      broadcastStrides(ta.shape, shape),
      broadcastStrides(tb.shape, shape),
      (o, i, j) => {
        res[o] = fn(x[i]!, y[j]!);
      },
    );
  }
  return new Tensor(res, shape);
}

/**
 * Applies `fn` to every element, giving a tensor of `dtype` (by default the input's).
 *
 * @example
 * ```ts
 * import { map } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * map(tensor([1, 2, 3]), (v) => v * v).toArray(); // Float64Array [1, 4, 9]
 * ```
 */
export function map(t: Tensor, fn: (x: number) => number, dtype: DType = t.dtype): Tensor {
  const out = allocate(dtype, t.size);
  const x = t.data;
  for (let i = 0; i < out.length; i++) out[i] = fn(x[i]!);
  return new Tensor(out, t.shape);
}

/**
 * `a + b`, broadcast.
 *
 * @example
 * ```ts
 * import { add } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * add(tensor([1, 2, 3], [3, 1]), tensor([10, 20], [1, 2])).shape; // [3, 2]
 * ```
 */
export function add(a: Operand, b: Operand): Tensor {
  return binary(a, b, (x, y) => x + y);
}

/**
 * `a - b`, broadcast.
 *
 * @example
 * ```ts
 * import { sub } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * sub(tensor([5, 7]), 1).toArray(); // Float64Array [4, 6]
 * ```
 */
export function sub(a: Operand, b: Operand): Tensor {
  return binary(a, b, (x, y) => x - y);
}

/**
 * `a * b`, broadcast.
 *
 * @example
 * ```ts
 * import { mul } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * mul(tensor([1, 2], [2], "f32"), 3).dtype; // "f32"
 * ```
 */
export function mul(a: Operand, b: Operand): Tensor {
  return binary(a, b, resultDtype(a, b) === "i32" ? Math.imul : (x, y) => x * y);
}

/**
 * `a / b`, broadcast; true division, so integer operands give f64.
 *
 * @example
 * ```ts
 * import { div } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * div(tensor([1, 3], [2], "i32"), 2).toArray(); // Float64Array [0.5, 1.5]
 * ```
 */
export function div(a: Operand, b: Operand): Tensor {
  return binary(
    a,
    b,
    (x, y) => x / y,
    floatOf(resultDtype(a, b)),
  );
}

/**
 * `a ** b`, broadcast.
 *
 * @example
 * ```ts
 * import { pow } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * pow(tensor([2, 3]), 2).toArray(); // Float64Array [4, 9]
 * ```
 */
export function pow(a: Operand, b: Operand): Tensor {
  return binary(a, b, resultDtype(a, b) === "i32" ? intPow : (x, y) => x ** y);
}

/**
 * The larger of `a` and `b`, elementwise.
 *
 * @example
 * ```ts
 * import { maximum } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * maximum(tensor([-1, 2]), 0).toArray(); // Float64Array [0, 2]
 * ```
 */
export function maximum(a: Operand, b: Operand): Tensor {
  return binary(a, b, Math.max);
}

/**
 * The smaller of `a` and `b`, elementwise.
 *
 * @example
 * ```ts
 * import { minimum } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * minimum(tensor([-1, 2]), 0).toArray(); // Float64Array [-1, 0]
 * ```
 */
export function minimum(a: Operand, b: Operand): Tensor {
  return binary(a, b, Math.min);
}

/** The unary functions, each as `(t: Tensor) => Tensor`; floats keep their dtype, i32 gives f64. */
const UNARY = {
  neg: (x: number) => -x,
  abs: Math.abs,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sign: Math.sign,
  relu: (x: number) => Math.max(x, 0), // NaN stays NaN, as in PyTorch
  sigmoid: (x: number) => 1 / (1 + Math.exp(-x)),
} as const;

function unary(name: keyof typeof UNARY): (t: Tensor) => Tensor {
  const fn = UNARY[name];
  const keepsInt = name === "neg" || name === "abs" || name === "sign" || name === "relu";
  return (t) => map(t, fn, keepsInt ? t.dtype : floatOf(t.dtype));
}

/**
 * `-x`.
 *
 * @example
 * ```ts
 * import { neg } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * neg(tensor([1, -2])).toArray(); // Float64Array [-1, 2]
 * ```
 */
export const neg: (t: Tensor) => Tensor = unary("neg");
/**
 * `|x|`.
 *
 * @example
 * ```ts
 * import { abs } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * abs(tensor([-3])).toArray(); // Float64Array [3]
 * ```
 */
export const abs: (t: Tensor) => Tensor = unary("abs");
/**
 * `e^x`.
 *
 * @example
 * ```ts
 * import { exp } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * exp(tensor([0])).toArray(); // Float64Array [1]
 * ```
 */
export const exp: (t: Tensor) => Tensor = unary("exp");
/**
 * The natural logarithm.
 *
 * @example
 * ```ts
 * import { log } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * log(tensor([1])).toArray(); // Float64Array [0]
 * ```
 */
export const log: (t: Tensor) => Tensor = unary("log");
/**
 * The square root.
 *
 * @example
 * ```ts
 * import { sqrt } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * sqrt(tensor([9])).toArray(); // Float64Array [3]
 * ```
 */
export const sqrt: (t: Tensor) => Tensor = unary("sqrt");
/**
 * `x²`.
 *
 * @example
 * ```ts
 * import { square } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * square(tensor([3])).toArray(); // Float64Array [9]
 * ```
 */
export function square(t: Tensor): Tensor {
  return mul(t, t);
}
/**
 * The sine.
 *
 * @example
 * ```ts
 * import { sin } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * sin(tensor([0])).toArray(); // Float64Array [0]
 * ```
 */
export const sin: (t: Tensor) => Tensor = unary("sin");
/**
 * The cosine.
 *
 * @example
 * ```ts
 * import { cos } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * cos(tensor([0])).toArray(); // Float64Array [1]
 * ```
 */
export const cos: (t: Tensor) => Tensor = unary("cos");
/**
 * The hyperbolic tangent.
 *
 * @example
 * ```ts
 * import { tanh } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * tanh(tensor([0])).toArray(); // Float64Array [0]
 * ```
 */
export const tanh: (t: Tensor) => Tensor = unary("tanh");
/**
 * The sign: -1, 0 or 1.
 *
 * @example
 * ```ts
 * import { sign } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * sign(tensor([-2, 0, 5])).toArray(); // Float64Array [-1, 0, 1]
 * ```
 */
export const sign: (t: Tensor) => Tensor = unary("sign");
/**
 * `max(x, 0)`.
 *
 * @example
 * ```ts
 * import { relu } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * relu(tensor([-1, 2])).toArray(); // Float64Array [0, 2]
 * ```
 */
export const relu: (t: Tensor) => Tensor = unary("relu");
/**
 * `1 / (1 + e^-x)`.
 *
 * @example
 * ```ts
 * import { sigmoid } from "./elementwise.ts";
 * import { tensor } from "./tensor.ts";
 * sigmoid(tensor([0])).toArray(); // Float64Array [0.5]
 * ```
 */
export const sigmoid: (t: Tensor) => Tensor = unary("sigmoid");

/** The dtype `binary` gives two operands by default. */
function resultDtype(a: Operand, b: Operand): DType {
  return promote(asTensor(a, b).dtype, asTensor(b, a).dtype);
}

/** `x ** y` for integers, by repeated squaring with wrapping products (numpy's int32 power). */
function intPow(x: number, y: number): number {
  if (y < 0) throw new Error("pow: integers to negative integer powers are not allowed");
  let result = 1;
  for (let base = x, e = y; e > 0; e >>>= 1, base = Math.imul(base, base)) {
    if (e & 1) result = Math.imul(result, base);
  }
  return result;
}

/** A number becomes a 0-d tensor of its partner's dtype (f64 if the partner is also a number). */
function asTensor(x: Operand, other: Operand): Tensor {
  if (x instanceof Tensor) return x;
  const partner = other instanceof Tensor ? other.dtype : "f64";
  const dtype = partner === "i32" && !Number.isInteger(x) ? "f64" : partner;
  const data = allocate(dtype, 1);
  data[0] = x;
  return new Tensor(data, []);
}
