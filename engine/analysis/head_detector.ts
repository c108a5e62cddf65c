/**
 * Head detectors as TransformerLens' `head_detector.detect_head` with its default `"mul"` measure:
 * a head's score is the attention it pays to the query-key pairs of a detection pattern, divided
 * by all the attention it pays, `Σ (pattern ⊙ detection) / Σ pattern` over the `[T, T]` pattern of
 * one sequence, then the mean over sequences (as `detect_head` on a list). The three patterns are
 * TransformerLens':
 *
 * - `previous_token`: (q, q − 1);
 * - `duplicate_token`: (q, k) with k < q and `tokens[k] = tokens[q]`;
 * - `induction`: (q, k) with k ≤ q and `tokens[k − 1] = tokens[q]`, k − 1 ≠ q (the duplicate
 *   pattern shifted one key to the right).
 *
 * `exclude_bos` zeroes the attention to key 0 and `exclude_current_token` that to the diagonal, in
 * the numerator and the denominator alike; both default to `false`, as TransformerLens'. mechlab's
 * models have no BOS token, so key 0 is the first token of the sequence.
 *
 * On a sequence of `half` random tokens repeated once (T = 2·half), a perfect previous-token head
 * scores (T − 1)/T (position 0 has no previous token) and a perfect induction head 1/2 (the first
 * half has nothing to induce from): the scale of `detect_head`, kept as it is.
 *
 * Shape letters: B batch (sequences), H n_heads, L n_layers, T pos.
 *
 * @module
 */

import type { HookedRunner } from "../hooks/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import { Rng, type Tensor } from "../tensor/mod.ts";
import type { DetectorScores } from "./report.ts";

/** The detection patterns TransformerLens names (`HEAD_NAMES`, without the `_head`). */
export const HEAD_KINDS = ["previous_token", "duplicate_token", "induction"] as const;
/** One of `HEAD_KINDS`. */
export type HeadKind = typeof HEAD_KINDS[number];

/** TransformerLens' `exclude_bos` and `exclude_current_token`, both `false` by default. */
export interface DetectOptions {
  exclude_bos?: boolean;
  exclude_current_token?: boolean;
}

/**
 * `[T * T]` (query, key), row-major: the detection pattern of `kind` for one sequence `tokens [T]`,
 * ones and zeros, lower triangular, as TransformerLens' `get_<kind>_head_detection_pattern`.
 *
 * @example
 * ```ts
 * import { detectionPattern } from "./head_detector.ts";
 * detectionPattern("previous_token", Int32Array.of(7, 8, 9)); // 1 at (1, 0) and (2, 1)
 * detectionPattern("induction", Int32Array.of(7, 8, 7, 8)); // 1 at (2, 1) and (3, 2)
 * ```
 */
export function detectionPattern(kind: HeadKind, tokens: Int32Array): Float64Array {
  const T = tokens.length;
  const out = new Float64Array(T * T);
  for (let q = 0; q < T; q++) {
    for (let k = 0; k <= q; k++) {
      const hit = kind === "previous_token"
        ? k === q - 1
        : kind === "duplicate_token"
        ? k < q && tokens[k] === tokens[q]
        : k >= 1 && k - 1 !== q && tokens[k - 1] === tokens[q];
      if (hit) out[q * T + k] = 1;
    }
  }
  return out;
}

/**
 * TransformerLens' `compute_head_attention_similarity_score` with `error_measure="mul"`: one head's
 * `pattern [T * T]` (query, key) against `detection [T * T]`, after the exclusions; NaN when no
 * attention is left.
 *
 * @example
 * ```ts
 * import { detectionPattern, headScore } from "./head_detector.ts";
 * const tokens = Int32Array.of(1, 2, 3);
 * const uniform = [1, 0, 0, 1 / 2, 1 / 2, 0, 1 / 3, 1 / 3, 1 / 3];
 * headScore(uniform, detectionPattern("previous_token", tokens)); // (1/2 + 1/3) / 3
 * headScore(uniform, detectionPattern("previous_token", tokens), { exclude_current_token: true });
 * // (1/2 + 1/3) / (1/2 + 2/3)
 * ```
 */
export function headScore(
  pattern: ArrayLike<number>,
  detection: Float64Array,
  options: DetectOptions = {},
): number {
  const T = Math.round(Math.sqrt(detection.length));
  if (T * T !== detection.length || pattern.length !== detection.length) {
    throw new RangeError(
      `headScore: pattern of ${pattern.length}, detection of ${detection.length}`,
    );
  }
  let hit = 0;
  let all = 0;
  for (let q = 0; q < T; q++) {
    for (let k = 0; k < T; k++) {
      if ((options.exclude_bos && k === 0) || (options.exclude_current_token && k === q)) continue;
      const a = pattern[q * T + k]!;
      all += a;
      hit += a * detection[q * T + k]!;
    }
  }
  return hit / all;
}

/**
 * `[L][H]`: every head's score for `kind`, the mean over the `B` sequences of `tokens [B, T]`, from
 * `patterns` (per layer, `blocks.L.attn.hook_pattern` `[B, H, T, T]`, f32 or f64).
 *
 * @example
 * ```ts
 * import { tensor } from "../tensor/mod.ts";
 * import { detectHeads } from "./head_detector.ts";
 * const previous = tensor([1, 0, 1, 0], [1, 1, 2, 2]); // one head attending to the previous token
 * detectHeads([previous], Int32Array.of(5, 6), "previous_token"); // [[0.5]]
 * ```
 */
export function detectHeads(
  patterns: readonly Tensor[],
  tokens: Int32Array,
  kind: HeadKind,
  options: DetectOptions = {},
): number[][] {
  return patterns.map((p, l) => {
    const [B, H, T] = p.shape as [number, number, number, number];
    if (p.ndim !== 4 || tokens.length !== B * T) {
      throw new RangeError(`detectHeads: layer ${l} pattern [${p.shape}], ${tokens.length} tokens`);
    }
    const detections = Array.from(
      { length: B },
      (_, b) => detectionPattern(kind, tokens.subarray(b * T, (b + 1) * T)),
    );
    return Array.from({ length: H }, (_, h) => {
      let s = 0;
      for (let b = 0; b < B; b++) {
        const at = (b * H + h) * T * T;
        s += headScore(p.data.subarray(at, at + T * T), detections[b]!, options);
      }
      return s / B;
    });
  });
}

/** The sequences the detectors run on. */
export interface RepeatedTokensOptions {
  /** Random tokens before the repeat; the sequence is twice as long. */
  half: number;
  /** How many sequences. */
  batch: number;
  seed: number;
}

/**
 * `[batch, 2 · half]`: `half` tokens drawn uniformly from `[0, d_vocab)` (seeded), then the same
 * again: ARENA's `generate_repeated_tokens` without the BOS token mechlab's models lack.
 *
 * @example
 * ```ts
 * import { repeatedTokens } from "./head_detector.ts";
 * const t = repeatedTokens(10, { half: 3, batch: 1, seed: 0 });
 * t.length; // 6, and t[3], t[4], t[5] repeat t[0], t[1], t[2]
 * ```
 */
export function repeatedTokens(d_vocab: number, options: RepeatedTokensOptions): Int32Array {
  const { half, batch, seed } = options;
  const rng = new Rng(seed);
  const out = new Int32Array(batch * 2 * half);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < half; i++) {
      const t = rng.nextUint32() % d_vocab;
      out[b * 2 * half + i] = t;
      out[b * 2 * half + half + i] = t;
    }
  }
  return out;
}

/**
 * The sequences' sizes: half = min(⌊n_ctx / 2⌋, 50) (ARENA's induction exercises repeat 50
 * tokens), 10 sequences, seed 0: the same at every checkpoint, so the scores are comparable.
 */
const DETECT_HALF = 50;
const DETECT_BATCH = 10;
const DETECT_SEED = 0;

/** Sequences given to `headDetectorScores` instead of its own. */
export interface DetectSequences {
  /** `[B, T]` row-major. */
  tokens: Int32Array;
  /** T. */
  seq_len: number;
  /** The seed they were drawn with, for the record. */
  seed: number;
}

/**
 * The three detectors' scores of every head of the model `runner` runs, on `DETECT_BATCH`
 * sequences of `repeatedTokens` (half = min(⌊n_ctx / 2⌋, 50), seed 0) over the ids the model
 * predicts, `[0, d_vocab_out)`, so that a task's input-only tokens (the induction task's `<bos>`,
 * modular arithmetic's `=`) are not drawn among the random ones; or on `sequences` when given (an
 * imported model's, which begin with BOS as TransformerLens' `generate_repeated_tokens`);
 * TransformerLens' defaults for the exclusions. Reads only `hook_pattern`, which the CPU and the
 * GPU runner both return.
 *
 * @example
 * ```ts ignore
 * const scores = await headDetectorScores(cpuRunner(cfg, weights), cfg);
 * scores.induction[1]; // layer 1's heads: about 0.5 for an induction head
 * ```
 */
export async function headDetectorScores(
  runner: HookedRunner,
  cfg: ModelConfig,
  sequences?: DetectSequences,
): Promise<DetectorScores> {
  const { tokens, seq_len, seed } = sequences ?? ownSequences(runner, cfg);
  const batch = tokens.length / seq_len;
  if (!Number.isInteger(batch) || batch > runner.maxBatch) {
    throw new RangeError(`head detectors: ${tokens.length} tokens are not [B, ${seq_len}]`);
  }
  const names = Array.from({ length: cfg.n_layers }, (_, l) => `blocks.${l}.attn.hook_pattern`);
  const { cache } = await runner.runWithCache(tokens, batch, { names });
  const patterns = names.map((n) => cache.get(n)!);
  const score = (kind: HeadKind) => detectHeads(patterns, tokens, kind);
  return {
    seq_len,
    batch,
    seed,
    previous_token: score("previous_token"),
    duplicate_token: score("duplicate_token"),
    induction: score("induction"),
  };
}

/** `headDetectorScores`' own sequences: `DETECT_BATCH` of `repeatedTokens`, seed 0. */
function ownSequences(runner: HookedRunner, cfg: ModelConfig): DetectSequences {
  const half = Math.min(Math.floor(cfg.n_ctx / 2), DETECT_HALF);
  if (half < 1) throw new RangeError(`head detectors: n_ctx ${cfg.n_ctx} holds no repeat`);
  const batch = Math.min(DETECT_BATCH, runner.maxBatch);
  const tokens = repeatedTokens(cfg.d_vocab_out, { half, batch, seed: DETECT_SEED });
  return { tokens, seq_len: 2 * half, seed: DETECT_SEED };
}
