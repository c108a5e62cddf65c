/**
 * What a hooked run takes and gives, the same on the CPU reference and on the GPU: TransformerLens'
 * `run_with_cache` and `run_with_hooks`, with the interventions people use written as data rather
 * than as Python closures, so that the GPU can carry them out between its pre-bound dispatches.
 *
 * Activations are addressed by TransformerLens hook names (`blocks.0.attn.hook_z`); `hookPoints`
 * lists them with their shapes. An intervention edits one hook's activation before the rest of the
 * forward pass reads it, optionally only in some rows of the batch, at one position, in one head.
 *
 * @module
 */

import type { Tensor } from "../tensor/mod.ts";

/**
 * Where in a hook's activation an intervention applies; every field narrows it, none means all.
 * For `[batch, pos, ...]` hooks `pos` is the position; for `[batch, head, q_pos, k_pos]` hooks
 * (`hook_pattern`, `hook_attn_scores`) it is the query position. `head` applies to hooks with a
 * head axis (`hook_q|k|v|z|result`, `hook_pattern`, `hook_attn_scores`).
 */
export interface Where {
  /**
   * Batch rows `[start, end)`: lets many variants of one input share a batch (`mean` and
   * `resample` read only these rows).
   */
  rows?: readonly [number, number];
  pos?: number;
  head?: number;
}

/**
 * One edit of one hook's activation. "Before any edit" means as the activation reached this hook,
 * edits of earlier hooks included, before this hook's own edits; several edits of one hook apply
 * in the order given.
 *
 * - `zero`: set to 0.
 * - `mean`: set to the mean over the edited rows (`rows`, the whole batch without it) of this same
 *   input, before any edit: a block of a shared batch is averaged over itself alone.
 * - `resample`: set to the activation of another of the edited rows, permuted among themselves by
 *   `seed`: with `rows` `[r0, r1)` (the whole batch without it) and `n = r1 − r0`, row `r0 + i`
 *   takes row `r0 + permutation(n, { seed: seed ?? 0 })[i]`, so no row leaks in from another
 *   block.
 * - `patch`: set to `source`, an activation of the same hook from another input (a cache): row
 *   `r` of the edited rows takes row `(r - rows[0]) % source rows` of `source`.
 * - `add`: add `scale · vector` (`[last axis]`) along the last axis: steering.
 *
 * @example
 * ```ts
 * import type { Intervention } from "./types.ts";
 * const ablate: Intervention = { kind: "zero", name: "blocks.0.attn.hook_z", head: 2 };
 * ```
 */
export type Intervention =
  & { name: string }
  & Where
  & (
    | { kind: "zero" }
    | { kind: "mean" }
    | { kind: "resample"; seed?: number }
    | { kind: "patch"; source: Tensor }
    | { kind: "add"; vector: Tensor; scale?: number }
  );

/** One hook point: its name and its shape for a given batch and number of positions. */
export interface HookPoint {
  name: string;
  shape: number[];
  /**
   * Whether the GPU runner can return it in a cache: every hook but `hook_attn_scores`, which its
   * attention kernel keeps in registers. Most are buffers of the GPU model; the embeddings are
   * taken from the weights, and `hook_result` is formed from `hook_z` only when asked.
   */
  gpu: boolean;
  /**
   * Whether the GPU runner can also edit it: a hook whose buffer the rest of its forward pass
   * reads. It refuses the others in one line (`gpuEditRefusal` says why, and what to edit instead).
   */
  gpuEdit: boolean;
}

/** What a hooked forward pass returns. */
export interface HookedResult {
  /**
   * `[batch, d_vocab_out]`: the logits at the last position, the only one the tasks score (and
   * the only one the GPU model unembeds).
   */
  logits: Tensor;
  /** Hook name → activation, only the names asked for. */
  cache: Map<string, Tensor>;
}

/** Options of `runWithCache` and `runWithHooks`. */
export interface RunOptions {
  /** Hooks to return (after any edits); default none. An unknown name is an error naming it. */
  names?: readonly string[];
}

/** Options of `runWithGrads`: the hooks to cache, and those whose gradient to keep. */
export interface GradOptions extends RunOptions {
  /** Hooks whose gradient to return (`gradHookPoint`: residual hooks and `attn.hook_z`). */
  grads: readonly string[];
}

/** What `runWithGrads` returns: a hooked result and the gradients asked for. */
export interface GradResult extends HookedResult {
  /** Hook name → the metric's gradient with respect to its activation, the hook's shape. */
  grads: Map<string, Tensor>;
}

/**
 * A model one can run with caches and hooks: `cpuRunner` (float64 reference), `f32Runner` (the
 * fast f32 CPU model) and `gpuRunner` (the GPU model) each give one, so every analysis runs on any.
 */
export interface HookedRunner {
  /** Which implementation: "cpu" (float64 or f32) or "gpu". */
  readonly device: "cpu" | "gpu";
  /** The largest `batch` one call takes (the GPU's buffers are built for it; Infinity on the CPU). */
  readonly maxBatch: number;
  /** `tokens` is `[batch, pos]` row-major. */
  runWithCache(tokens: Int32Array, batch: number, options?: RunOptions): Promise<HookedResult>;
  runWithHooks(
    tokens: Int32Array,
    batch: number,
    interventions: readonly Intervention[],
    options?: RunOptions,
  ): Promise<HookedResult>;
  /**
   * TransformerLens' `get_cache_fwd_and_bwd`: one forward pass and one backward pass from
   * `dlogits` `[batch, d_vocab_out]`, the gradient of a metric with respect to the last
   * position's logits (a logit difference: +1 and −1), the backward that training runs.
   */
  runWithGrads(
    tokens: Int32Array,
    batch: number,
    dlogits: Tensor,
    options: GradOptions,
  ): Promise<GradResult>;
  /** Frees what the runner holds (GPU buffers); a no-op on the CPU. */
  release(): void;
}
