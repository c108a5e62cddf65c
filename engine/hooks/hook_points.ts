/**
 * The hook points of a model, in forward order, with TransformerLens' names and shapes, and the
 * check every hook name goes through: an unknown name is a one-line error that names it and the
 * closest valid names, since users find hook names hard to discover.
 *
 * Shape letters: B batch, T pos, D d_model, H n_heads, E d_head, M d_mlp.
 *
 * @module
 */

import type { ModelConfig } from "../model/config.ts";
import type { Tensor } from "../tensor/mod.ts";
import type { HookPoint } from "./types.ts";

/** The one hook the GPU runner cannot return: its attention kernel keeps the scores in registers. */
const NOT_ON_GPU = /\.attn\.hook_attn_scores$/;

/**
 * The hooks the GPU runner cannot edit, why, and (`instead`, which replaces the matched name) what
 * to edit in their place. Its forward pass reads none of them: the embeddings reach it only as
 * their sum, each head's result only inside `hook_attn_out` (one product over all heads; the
 * runner forms the per-head product for the cache alone), the scores, pattern and LayerNorm scale
 * only inside the kernels that compute them.
 */
const GPU_NO_EDIT: { hooks: RegExp; why: string; instead?: string }[] = [
  {
    hooks: /^hook_(pos_)?embed$/,
    why: "its embedding kernel writes only their sum",
    instead: "blocks.0.hook_resid_pre (their sum)",
  },
  { hooks: /\.attn\.hook_attn_scores$/, why: "its attention kernel keeps them in registers" },
  {
    hooks: /\.attn\.hook_pattern$/,
    why: "its attention kernel computes the pattern and z together",
  },
  {
    hooks: /\.attn\.hook_result$/,
    why: "it forms each head's result only to cache it (hook_attn_out is one product over heads)",
    instead: ".attn.hook_z (the same per-head output before W_O)",
  },
  {
    hooks: /\.hook_scale$/,
    why: "its LayerNorm kernel normalises without reading hook_scale back",
  },
];

/**
 * Every hook point of `cfg` for `batch` rows of `pos` positions, in the order the forward pass
 * reaches them: `hook_embed`, `hook_pos_embed`, then per block `hook_resid_pre`,
 * `ln1.hook_scale|hook_normalized` (LN), `attn.hook_q|k|v` `[B, T, H, E]`,
 * `attn.hook_attn_scores|hook_pattern` `[B, H, T, T]`, `attn.hook_z` `[B, T, H, E]`,
 * `attn.hook_result` `[B, T, H, D]` (each head's `z·W_O`), `hook_attn_out`, and unless
 * `attn_only` `hook_resid_mid`, `ln2.*`, `mlp.hook_pre|hook_post` `[B, T, M]`, `hook_mlp_out`;
 * `hook_resid_post`; then `ln_final.*`. `gpu` says whether the GPU runner can return it in a
 * cache (all but `hook_attn_scores`), `gpuEdit` whether it can also edit it (all but the
 * embeddings, `hook_attn_scores`, `hook_pattern`, `hook_result` and `hook_scale`: see
 * `gpuEditRefusal`).
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { hookPoints } from "./hook_points.ts";
 * const points = hookPoints(DEFAULT_MODEL, 2, 3);
 * points.find((p) => p.name === "blocks.0.attn.hook_pattern")?.shape; // [2, 4, 3, 3]
 * points.length; // 16
 * ```
 */
export function hookPoints(cfg: ModelConfig, batch: number, pos: number): HookPoint[] {
  const { d_model: D, n_heads: H, d_head: E, d_mlp: M } = cfg;
  const [B, T] = [batch, pos];
  const out: [string, number[]][] = [["hook_embed", [B, T, D]], ["hook_pos_embed", [B, T, D]]];
  const norm = (prefix: string): [string, number[]][] =>
    cfg.normalization_type !== null // LN or LNPre
      ? [[`${prefix}.hook_scale`, [B, T, 1]], [`${prefix}.hook_normalized`, [B, T, D]]]
      : [];
  for (let l = 0; l < cfg.n_layers; l++) {
    const b = `blocks.${l}`;
    out.push([`${b}.hook_resid_pre`, [B, T, D]], ...norm(`${b}.ln1`));
    for (const n of ["q", "k", "v"]) out.push([`${b}.attn.hook_${n}`, [B, T, H, E]]);
    out.push(
      [`${b}.attn.hook_attn_scores`, [B, H, T, T]],
      [`${b}.attn.hook_pattern`, [B, H, T, T]],
      [`${b}.attn.hook_z`, [B, T, H, E]],
      [`${b}.attn.hook_result`, [B, T, H, D]],
      [`${b}.hook_attn_out`, [B, T, D]],
    );
    if (!cfg.attn_only) {
      out.push([`${b}.hook_resid_mid`, [B, T, D]], ...norm(`${b}.ln2`));
      out.push([`${b}.mlp.hook_pre`, [B, T, M]], [`${b}.mlp.hook_post`, [B, T, M]]);
      out.push([`${b}.hook_mlp_out`, [B, T, D]]);
    }
    out.push([`${b}.hook_resid_post`, [B, T, D]]);
  }
  out.push(...norm("ln_final"));
  return out.map(([name, shape]) => ({
    name,
    shape,
    gpu: !NOT_ON_GPU.test(name),
    gpuEdit: gpuEditRefusal(name) === undefined,
  }));
}

/**
 * Why the GPU runner cannot edit hook `name`, ending with what to do instead, or `undefined` where
 * it can: the end of the runner's one-line refusal `cannot edit NAME on the GPU: ...`.
 *
 * @example
 * ```ts
 * import { gpuEditRefusal } from "./hook_points.ts";
 * gpuEditRefusal("blocks.0.attn.hook_z"); // undefined
 * gpuEditRefusal("blocks.0.attn.hook_pattern");
 * // "its attention kernel computes the pattern and z together; use cpuRunner"
 * gpuEditRefusal("blocks.1.attn.hook_result");
 * // "it forms each head's result only to cache it (...); edit blocks.1.attn.hook_z (the same
 * // per-head output before W_O) or use cpuRunner"
 * ```
 */
export function gpuEditRefusal(name: string): string | undefined {
  const limit = GPU_NO_EDIT.find((l) => l.hooks.test(name));
  if (limit === undefined) return undefined;
  const instead = limit.instead === undefined
    ? ""
    : `edit ${name.replace(limit.hooks, limit.instead)} or `;
  return `${limit.why}; ${instead}use cpuRunner`;
}

/**
 * The hooks whose gradient `runWithGrads` returns: the residual stream's (`hook_resid_pre`,
 * `hook_resid_mid`, `hook_resid_post`), the sublayers' outputs (`hook_attn_out`, `hook_mlp_out`)
 * and each head's `attn.hook_z`, the ones attribution patching reads. The backward passes reach
 * each of them as one buffer; the others (q, k, v, the pattern, LayerNorm) only inside kernels.
 */
const GRAD_HOOKS =
  /^blocks\.\d+\.(hook_resid_(pre|mid|post)|hook_attn_out|hook_mlp_out|attn\.hook_z)$/;

/**
 * `name`'s hook point among `points` when its gradient can be asked for (`runWithGrads`), else
 * a one-line `Error`: an unknown name as `hookPoint`'s, a known one without a gradient naming the
 * hooks that have one.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { gradHookPoint, hookPoints } from "./hook_points.ts";
 * const points = hookPoints(DEFAULT_MODEL, 1, 3);
 * gradHookPoint(points, "blocks.0.attn.hook_z").shape; // [1, 3, 4, 32]
 * // gradHookPoint(points, "blocks.0.attn.hook_q") throws: no gradient of blocks.0.attn.hook_q ...
 * ```
 */
export function gradHookPoint(points: readonly HookPoint[], name: string): HookPoint {
  const point = hookPoint(points, name);
  if (!GRAD_HOOKS.test(name)) {
    throw new Error(
      `no gradient of ${name}: gradients are kept for hook_resid_pre|mid|post, hook_attn_out, ` +
        "hook_mlp_out and attn.hook_z",
    );
  }
  return point;
}

/**
 * `name`'s hook point among `points`, or an `Error` whose one-line message names it and the three
 * closest valid names (by edit distance).
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { hookPoint, hookPoints } from "./hook_points.ts";
 * const points = hookPoints(DEFAULT_MODEL, 1, 3);
 * hookPoint(points, "blocks.0.attn.hook_z").shape; // [1, 3, 4, 32]
 * // hookPoint(points, "blocks.0.hook_z") throws:
 * // unknown hook blocks.0.hook_z; closest: blocks.0.attn.hook_z, blocks.0.attn.hook_q, ...
 * ```
 */
export function hookPoint(points: readonly HookPoint[], name: string): HookPoint {
  const point = points.find((p) => p.name === name);
  if (point !== undefined) return point;
  const closest = points
    .map((p) => ({ name: p.name, d: editDistance(name, p.name) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((p) => p.name);
  throw new Error(
    `unknown hook ${name}; closest: ${closest.join(", ")} (hookPoints lists all ${points.length})`,
  );
}

/**
 * The number of positions of `batch` rows of `tokens`, or a `RangeError` saying why there is none.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { positionsOf } from "./hook_points.ts";
 * positionsOf(DEFAULT_MODEL, new Int32Array(6), 2); // 3
 * ```
 */
export function positionsOf(cfg: ModelConfig, tokens: Int32Array, batch: number): number {
  const T = tokens.length / batch;
  if (!Number.isInteger(batch) || batch < 1 || !Number.isInteger(T) || T < 1 || T > cfg.n_ctx) {
    throw new RangeError(
      `tokens: length ${tokens.length} is not batch ${batch} × pos with 1 <= pos <= n_ctx ${cfg.n_ctx}`,
    );
  }
  return T;
}

/**
 * Throws a `RangeError` unless `dlogits` is `[batch, U]`: a `runWithGrads` call's gradient of the
 * last position's logits.
 *
 * @example
 * ```ts
 * import { Tensor } from "../tensor/mod.ts";
 * import { checkLastDlogits } from "./hook_points.ts";
 * checkLastDlogits(new Tensor(new Float64Array(6), [2, 3]), 2, 3); // no error
 * ```
 */
export function checkLastDlogits(dlogits: Tensor, batch: number, U: number): void {
  if (dlogits.shape.join() !== [batch, U].join()) {
    throw new RangeError(`dlogits: shape [${dlogits.shape}], expected [${batch}, ${U}]`);
  }
}

/** Levenshtein's distance: the fewest insertions, deletions and substitutions from `a` to `b`. */
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitute = row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      next.push(Math.min(substitute, row[j]! + 1, next[j - 1]! + 1));
    }
    row = next;
  }
  return row[b.length]!;
}
