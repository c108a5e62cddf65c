/**
 * mechlab's WGSL kernels and their launchers. Each `NAME.wgsl` holds a layer's `_forward` and
 * `_backward` entry points side by side, specialised to shapes through a few `{{PLACEHOLDERS}}`;
 * each `NAME.ts` fills them, checks shapes and returns pre-bound dispatches. The float64 reference
 * of each kernel's maths is in `engine/reference/`, under the same function names: a file that
 * needs both imports one of them under an alias.
 *
 * @example
 * ```ts ignore
 * import { requestGpu } from "../engine/gpu/mod.ts";
 * import { activationForward, matmul } from "./mod.ts";
 * const gpu = await requestGpu();
 * const pre = gpu.empty([rows, d_mlp]);
 * const post = gpu.empty([rows, d_mlp]);
 * gpu.run([
 *   ...await matmul(gpu, x, W_in, pre),
 *   ...await activationForward(gpu, pre, post, { act: "relu" }),
 * ]);
 * ```
 *
 * @module
 */

export * from "./matmul.ts";
export * from "./add.ts";
export * from "./reduce.ts";
export * from "./embed.ts";
export * from "./attention.ts";
export * from "./layernorm.ts";
export * from "./activation.ts";
export * from "./cross_entropy.ts";
export * from "./adamw.ts";
export * from "./grokfast.ts";
export * from "./gather.ts";
export * from "./last_position.ts";
export * from "./hook_edit.ts";
export * from "./flash_attention.ts";
export * from "./decode.ts";
