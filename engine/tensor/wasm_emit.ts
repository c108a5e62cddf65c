/**
 * Just enough of the WebAssembly binary format to write one SIMD function by hand: opcodes as
 * byte arrays, LEB128 numbers, locals and module sections. `gemm_wasm.ts` builds its kernels with
 * it, so they are read and reviewed as source, and no assembler is needed to build them.
 *
 * @module
 */

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

/**
 * Numbers the locals after the parameters and declares their types, one entry each.
 *
 * @example
 * ```ts
 * import { Locals, wasm } from "./wasm_emit.ts";
 * const locals = new Locals(2); // after 2 parameters
 * locals.add(wasm.I32); // 2: the first local's index
 * locals.declare(); // [1, 1, 0x7f]: one entry of one i32
 * ```
 */
export class Locals {
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
const v128Load = (offset: number) => simd(0x00, 4, ...uleb(offset)); // align 2^4
const v128Store = (offset: number) => simd(0x0b, 4, ...uleb(offset));
const get = (local: number) => [0x20, ...uleb(local)];
const set = (local: number) => [0x21, ...uleb(local)];
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

/** `v128.const` of four equal f32 lanes. */
const f32x4Const = (value: number) =>
  simd(0x0c, ...new Uint8Array(new Float32Array([value, value, value, value]).buffer));

/** `v128.const` of four equal i32 lanes. */
const i32x4Const = (value: number) =>
  simd(0x0c, ...new Uint8Array(new Int32Array([value, value, value, value]).buffer));

/**
 * A module of one exported function `fn` of `params` (value types) returning nothing, whose body
 * (locals declared, `END` included) is `code`, over the imported `env.memory`.
 */
function oneFunctionModule(fn: string, params: number[], code: number[]): Uint8Array<ArrayBuffer> {
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, vector([[0x60, ...vector(params.map((t) => [t])), 0x00]])), // (params) -> ()
    ...section(2, vector([[...name("env"), ...name("memory"), 0x02, 0x00, 0x01]])),
    ...section(3, vector([[0x00]])), // function 0 has type 0
    ...section(7, vector([[...name(fn), 0x00, 0x00]])),
    ...section(10, vector([[...uleb(code.length), ...code]])),
  ]);
}

/**
 * The opcodes and encoders the kernels are written with: `get`/`set` of locals, `i32` constants,
 * `loop` blocks closed by `brIf(0)`, SIMD loads and stores, LEB128 numbers and module sections.
 *
 * @example
 * ```ts
 * import { wasm } from "./wasm_emit.ts";
 * wasm.uleb(624485); // [0xe5, 0x8e, 0x26]
 * [...wasm.get(3), ...wasm.i32(8), wasm.MUL]; // local.get 3; i32.const 8; i32.mul
 * ```
 */
export const wasm = {
  I32,
  F32,
  V128,
  ADD,
  MUL,
  LT_U,
  END,
  V128_ZERO,
  simd,
  v128Load,
  v128Store,
  get,
  set,
  i32,
  brIf,
  increment,
  loop,
  section,
  vector,
  name,
  uleb,
  sleb,
  f32x4Const,
  i32x4Const,
  oneFunctionModule,
} as const;
