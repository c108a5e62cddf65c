/**
 * Attribution patching (Nanda 2023): the linear approximation of every activation patch at once.
 * Patching activation `a` from the clean run into the corrupted one changes the metric by about
 * `(a_clean − a_corrupt) · ∂metric/∂a`, the gradient taken on the corrupted run; one forward pass
 * of both sequences and one backward pass of the corrupted one (`runWithGrads`, the backward that
 * training runs) give every patch of a sweep. The two sweeps of `patchingSweep` it mirrors, with
 * the same metric (the logit difference at the last position), so each entry estimates
 * `sweep − corrupt` there:
 *
 * - `resid_pre [L][T]`: `blocks.L.hook_resid_pre` at one position, the sum over d_model;
 * - `head_out [L][H]`: one head's `blocks.L.attn.hook_z` at every position, the sum over
 *   positions and d_head.
 *
 * Exact where the metric is linear in the activation between the two runs; how near the real
 * patches it comes elsewhere is what `pearson` against them says.
 *
 * Shape letters: L n_layers, T pos, H n_heads, D d_model, E d_head, U d_vocab_out.
 *
 * @module
 */

import type { HookedRunner } from "../hooks/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import { Tensor } from "../tensor/mod.ts";

/** The attribution of each patch: its estimated change of the metric from the corrupted run's. */
export interface AttributionSweep {
  /** The metric on the clean run (from the same forward pass). */
  clean: number;
  /** The metric on the corrupted run. */
  corrupt: number;
  /** `[L][T]`: `blocks.L.hook_resid_pre` at one position. */
  resid_pre: number[][];
  /** `[L][H]`: one head's `hook_z` at every position. */
  head_out: number[][];
}

/** A clean and a corrupted sequence of the same length, and the two answers of the metric. */
export interface AttributionInputs {
  /** `[T]` */
  clean: Int32Array;
  /** `[T]` */
  corrupt: Int32Array;
  /** The metric is `logit[good] − logit[bad]` at the last position. */
  good: number;
  bad: number;
}

/**
 * Every patch's attribution, from one `runWithGrads` call of two rows (clean, corrupted) with the
 * metric's gradient on the corrupted row only.
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout, unflatten } from "../model/params.ts";
 * import { cpuRunner } from "../hooks/mod.ts";
 * import { attributionSweep } from "./attribution.ts";
 * const cfg = { ...DEFAULT_MODEL, d_model: 8, d_head: 4, n_heads: 2, d_mlp: 16 };
 * const runner = cpuRunner(cfg, unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg))));
 * const a = await attributionSweep(runner, cfg, {
 *   clean: Int32Array.of(3, 5, 113), corrupt: Int32Array.of(3, 6, 113), good: 8, bad: 9,
 * });
 * a.resid_pre[0]![0]; // 0: position 0 is the same in both
 * ```
 */
export async function attributionSweep(
  runner: HookedRunner,
  cfg: ModelConfig,
  inputs: AttributionInputs,
): Promise<AttributionSweep> {
  const { clean, corrupt, good, bad } = inputs;
  const T = clean.length;
  if (corrupt.length !== T) {
    throw new RangeError(`attribution: corrupt has ${corrupt.length} tokens, clean ${T}`);
  }
  const U = cfg.d_vocab_out;
  const dlogits = new Float64Array(2 * U); // [2, U]: the metric's gradient, corrupted row only
  [dlogits[U + good], dlogits[U + bad]] = [1, -1];
  const layers = Array.from({ length: cfg.n_layers }, (_, l) => l);
  const resid = layers.map((l) => `blocks.${l}.hook_resid_pre`);
  const z = layers.map((l) => `blocks.${l}.attn.hook_z`);
  const tokens = new Int32Array(2 * T);
  tokens.set(clean);
  tokens.set(corrupt, T);
  const run = await runner.runWithGrads(tokens, 2, new Tensor(dlogits, [2, U]), {
    names: [...resid, ...z],
    grads: [...resid, ...z],
  });
  const metric = (row: number) =>
    run.logits.data[row * U + good]! - run.logits.data[row * U + bad]!;
  /** `[T]`: `Σ (clean − corrupt) · grad` over each position's values (head `h` of `heads`). */
  const attribute = (name: string, heads: number, h: number): number[] => {
    const act = run.cache.get(name)!.data; // [2, T, ...]
    const grad = run.grads.get(name)!.data; // [2, T, ...]: the clean row's is 0
    const perPos = act.length / (2 * T);
    const width = perPos / heads;
    return Array.from({ length: T }, (_, t) => {
      let s = 0;
      for (let k = h * width; k < (h + 1) * width; k++) {
        const i = t * perPos + k;
        s += (act[i]! - act[T * perPos + i]!) * grad[T * perPos + i]!;
      }
      return s;
    });
  };
  const H = cfg.n_heads;
  return {
    clean: metric(0),
    corrupt: metric(1),
    resid_pre: resid.map((name) => attribute(name, 1, 0)),
    head_out: z.map((name) =>
      Array.from({ length: H }, (_, h) => attribute(name, H, h).reduce((a, b) => a + b, 0))
    ),
  };
}

/**
 * Pearson's correlation of `a` and `b` (equal lengths; NaN entries of either dropped pairwise);
 * NaN when fewer than two pairs are left or either side is constant.
 *
 * @example
 * ```ts
 * import { pearson } from "./attribution.ts";
 * pearson([1, 2, 3], [2, 4, 7]); // 0.993
 * pearson([1, 2, 3], [3, 2, 1]); // -1
 * ```
 */
export function pearson(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new RangeError(`pearson: ${a.length} and ${b.length} values`);
  const pairs = a.flatMap((x, i) => Number.isNaN(x) || Number.isNaN(b[i]!) ? [] : [[x, b[i]!]]);
  const n = pairs.length;
  if (n < 2) return NaN;
  const [ma, mb] = [0, 1].map((k) => pairs.reduce((s, p) => s + p[k]!, 0) / n) as [
    number,
    number,
  ];
  let [sab, saa, sbb] = [0, 0, 0];
  for (const [x, y] of pairs) {
    sab += (x! - ma) * (y! - mb);
    saa += (x! - ma) ** 2;
    sbb += (y! - mb) ** 2;
  }
  return saa > 0 && sbb > 0 ? sab / Math.sqrt(saa * sbb) : NaN;
}
