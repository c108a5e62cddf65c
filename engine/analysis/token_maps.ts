/**
 * The maps a researcher reads a model of modular addition by, token by token (what `analyze`
 * adds to a `modular` checkpoint's report, `ModularReport.maps`): each head's full QK and OV
 * circuits over the vocabulary (TransformerLens' `W_E @ QK @ W_E.T` and `W_E @ OV @ W_U`), the
 * attention the `=` position pays to `x` over every input (x, y), and `W_E` and `W_Uᵀ` in the
 * Fourier basis (Nanda et al. 2023, Fig. 3: both are sparse in frequency once the model groks).
 *
 * The maps are flat, row-major and rounded to 4 significant digits: at p = 113 one map is up to
 * 114 × 114 numbers and a checkpoint carries 3 per head, so the digits the heatmaps cannot show
 * are left out of the JSON.
 *
 * Shape letters: p the modulus, N = p² examples (`i = x · p + y`), V d_vocab (p + 1), D d_model,
 * H n_heads, T n_ctx.
 *
 * @module
 */

import { fourier1d, Tensor, transpose } from "../tensor/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import { fullOvCircuit, fullQkCircuit } from "./circuits.ts";
import { readF64 } from "./decompose.ts";
import type { TokenMaps } from "./report.ts";

/** Significant digits the maps keep. */
const MAP_DIGITS = 4;

/**
 * Values rounded to `MAP_DIGITS` significant digits, as a plain array.
 *
 * @example
 * ```ts
 * import { roundMap } from "./token_maps.ts";
 * roundMap(Float64Array.of(1.234567, -0.000123456)); // [1.235, -0.0001235]
 * ```
 */
export function roundMap(values: ArrayLike<number>): number[] {
  return Array.from(values, (v) => Number(v.toPrecision(MAP_DIGITS)));
}

/**
 * The attention weight the last position (`=`) puts on position 0 (`x`), per head of the layer
 * the pattern is from: `pattern[:, h, T − 1, 0]`, `[N]` per head.
 *
 * @example
 * ```ts
 * import { eqAttention } from "./token_maps.ts";
 * import { tensor } from "../tensor/mod.ts";
 * // N = 1 example, H = 1 head, T = 2 positions: the second row attends 0.3 to the first
 * eqAttention(tensor([1, 0, 0.3, 0.7], [1, 1, 2, 2])); // [[0.3]]
 * ```
 */
export function eqAttention(pattern: Tensor): number[][] {
  const [N, H, T] = pattern.shape as [number, number, number, number];
  const data = pattern.data;
  return Array.from(
    { length: H },
    (_, h) => roundMap(Array.from({ length: N }, (_, i) => data[((i * H + h) * T + T - 1) * T]!)),
  );
}

/**
 * Every head's full QK and OV circuits (`fullQkCircuit`, `fullOvCircuit`) and the attention
 * from `=` to `x` (`eqAttention` of each layer's `hook_pattern`, `[N, H, T, T]`, when given), with
 * `W_E[:p]` and `W_Uᵀ` in the Fourier basis: `fourierBasis(p) · W_E[:p]` and
 * `fourierBasis(p) · W_Uᵀ`, `[p, D]` each (rows: the constant, cos 1, sin 1, ...).
 *
 * @example
 * ```ts
 * import { DEFAULT_MODEL } from "../model/config.ts";
 * import { initParams, paramLayout, unflatten } from "../model/params.ts";
 * import { tokenMaps } from "./token_maps.ts";
 * const cfg = { ...DEFAULT_MODEL, d_vocab: 6, d_vocab_out: 5, d_model: 8, d_head: 4, n_heads: 2 };
 * const weights = unflatten(paramLayout(cfg), initParams(cfg, paramLayout(cfg)));
 * const maps = tokenMaps(cfg, weights, []);
 * maps.heads[1]!.qk.length; // 36: 6 × 6 tokens
 * maps.embed_fourier.length; // 40: 5 basis rows × d_model 8
 * ```
 */
export function tokenMaps(
  cfg: ModelConfig,
  weights: Map<string, Tensor>,
  patterns: readonly Tensor[],
): TokenMaps {
  const p = cfg.d_vocab_out;
  const heads: TokenMaps["heads"] = [];
  for (let layer = 0; layer < cfg.n_layers; layer++) {
    const toX = patterns[layer] === undefined ? undefined : eqAttention(patterns[layer]!);
    for (let head = 0; head < cfg.n_heads; head++) {
      heads.push({
        layer,
        head,
        qk: roundMap(fullQkCircuit(weights, layer, head).data),
        ov: roundMap(fullOvCircuit(weights, layer, head).data),
        ...(toX ? { eq_to_x: toX[head]! } : {}),
      });
    }
  }
  const W_E = readF64(weights, "embed.W_E"); // [V, D]
  const D = W_E.shape[1]!;
  const numbers = new Tensor(W_E.data.subarray(0, p * D), [p, D]); // the `=` row left out
  const W_U = readF64(weights, "unembed.W_U"); // [D, p]
  return {
    d_vocab: cfg.d_vocab,
    d_model: D,
    heads,
    embed_fourier: roundMap(fourier1d(numbers).data),
    unembed_fourier: roundMap(fourier1d(transpose(W_U)).data),
  };
}
