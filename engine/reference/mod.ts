/**
 * The float64 CPU reference of every GPU kernel's maths, forward and backward side by side, as
 * llm.c keeps its CPU layers: what the kernel tests hold the WGSL to, and the CPU training path.
 * Inputs and outputs are `Tensor`s; each backward is itself held to finite differences.
 *
 * @example
 * ```ts
 * import { activationForward, crossEntropy } from "./mod.ts";
 * import { tensor } from "../tensor/mod.ts";
 * activationForward(tensor([-1, 0, 2]), { act: "relu" }).toArray(); // Float64Array [0, 0, 2]
 * crossEntropy(tensor([0, Math.log(2), Math.log(3)], [1, 3]), tensor([2], [1], "i32")).loss.toArray();
 * // Float64Array [0.693...]: ln 6 - ln 3
 * ```
 *
 * @module
 */

export * from "./embed.ts";
export * from "./attention.ts";
export * from "./layernorm.ts";
export * from "./activation.ts";
export * from "./cross_entropy.ts";
export * from "./adamw.ts";
export * from "./grokfast.ts";
export * from "./hook_edit.ts";
