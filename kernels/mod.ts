/**
 * mechlab's WGSL kernels and their launchers. Each `NAME.wgsl` holds a layer's `_forward` and
 * `_backward` entry points side by side, specialised to shapes through a few `{{PLACEHOLDERS}}`;
 * each `NAME.ts` fills them, checks shapes and returns pre-bound dispatches. The float64 reference
 * of each kernel's maths is in `engine/reference/`.
 *
 * @module
 */

export * from "./add.ts";
export * from "./reduce.ts";
