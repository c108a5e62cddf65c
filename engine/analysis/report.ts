/**
 * What `mechlab analyze` writes under `runs/NAME/analysis/` and what the page's views read: the
 * JSON shapes, in one place, for the writer (`engine/analysis/analyze_run.ts`), the server and the
 * UI (`ui/types.ts` re-exports them).
 *
 * - `analysis/index.json`: `AnalysisIndex`, what does not change between checkpoints (the
 *   examples, their splits, the token labels) and one `ProgressRow` per analysed checkpoint.
 * - `analysis/step_NNNNNN.json`: `CheckpointReport`, everything computed at one checkpoint.
 * - `analysis/summary.json`: `AnalysisSummary`, the final checkpoint's headline figures.
 * - `GET /api/runs/NAME/inspect?step=S&example=I`: `InspectReport`, one input looked at closely
 *   (computed on demand, not stored).
 *
 * Shape letters: L n_layers, H n_heads, T n_ctx, M d_mlp, V d_vocab, N examples, p the modulus.
 * Losses are mean natural-log cross-entropy at the scored (last) position, as in `metrics.jsonl`.
 *
 * @module
 */

/**
 * One checkpoint's progress measures: a row of `AnalysisIndex.progress`, plotted against `step`.
 *
 * @example
 * ```ts
 * import type { ProgressRow } from "./report.ts";
 * const row: ProgressRow = {
 *   step: 1000, train_loss: 0.01, test_loss: 9.3, train_acc: 1, test_acc: 0.02,
 *   sum_sq_weights: 2400, decomposition_error: 3e-6,
 * };
 * ```
 */
export interface ProgressRow {
  step: number;
  /** Recomputed from the checkpoint over every train example (all groups for `oocl`). */
  train_loss: number;
  /** Over every held-out example; `null` when the run holds none out. */
  test_loss: number | null;
  train_acc: number;
  /** `null` when the run holds no example out. */
  test_acc: number | null;
  /** Σ of every weight squared: what weight decay shrinks during grokking's cleanup. */
  sum_sq_weights: number;
  /**
   * max |Σ direct-logit-attribution parts − logits| over the examples: 0 up to rounding. Tasks
   * answering at each example's last position only, as `example_loss`.
   */
  decomposition_error?: number;
  /** `modular`: train loss with only the final checkpoint's key frequencies kept (Nanda et al.). */
  restricted_loss?: number;
  /** `modular`: train loss with the final checkpoint's key frequencies removed from the logits. */
  excluded_loss?: number;
  /** `modular`: Gini coefficient of `W_E`'s norms per Fourier frequency (1: one frequency). */
  gini_embed?: number;
  /** `modular`: Gini coefficient of the neurons' activation norms per frequency. */
  gini_neurons?: number;
  /** `modular`: the key frequencies found at this checkpoint, ascending. */
  key_freqs?: number[];
  /** `oocl`: mean cosine similarity of each original token's embedding with its alias's. */
  alias_alignment?: number;
  /** `oocl`: accuracy on held-out cells whose twin in the other table was trained. */
  twin_acc?: number;
  /** Sequence tasks: `SequenceReport.icl`'s score (late minus early loss); `null` when unscored. */
  icl_score?: number | null;
  /** Sequence tasks: the highest induction score of any head (`detect_head`, at most 1/2 here). */
  induction_score?: number;
  /** Sequence tasks: every head's detector scores, for the lines across checkpoints. */
  head_scores?: Pick<DetectorScores, "previous_token" | "duplicate_token" | "induction">;
}

/**
 * The tasks `mechlab analyze` knows; the last five are sequences (`SequenceReport`), an imported
 * model (`pretrained`) analysed on repeated random tokens.
 */
export type AnalysedTask =
  | "modular"
  | "oocl"
  | "induction"
  | "brackets"
  | "strings"
  | "text"
  | "pretrained";

/**
 * `analysis/index.json`.
 *
 * @example
 * ```ts
 * import type { AnalysisIndex } from "./report.ts";
 * const index: AnalysisIndex = {
 *   run: "modular_add_23", task: "modular", p: 23, n_layers: 1, n_heads: 4, n_ctx: 3,
 *   vocab: ["0", "1", "="], examples: 529, split: [0, 1], group: [0, 0], groups: ["all"],
 *   targets: [0, 1], steps: [0, 500], progress: [],
 * };
 * ```
 */
export interface AnalysisIndex {
  run: string;
  task: AnalysedTask;
  /** The modulus of the modular and out-of-context tasks; 0 for a task without one. */
  p: number;
  n_layers: number;
  n_heads: number;
  n_ctx: number;
  /** `vocab[id]`: how token `id` is shown. */
  vocab: string[];
  /** N. For `modular`, example `i` is `(x, y) = (⌊i/p⌋, i mod p)`. */
  examples: number;
  /** `[N]`: 0 train, 1 held out, -1 in no group. */
  split: number[];
  /** `[N]`: index into `groups`, -1 in none. */
  group: number[];
  /** The task's group names ("all"; or "table1", "table2", "links"). */
  groups: string[];
  /** `[N]`: the answer token of each example, for tasks answering at the last position; else empty. */
  targets: number[];
  /** The analysed checkpoints' steps, ascending; `step_NNNNNN.json` exists for each. */
  steps: number[];
  /** One row per entry of `steps`, same order. */
  progress: ProgressRow[];
}

/** One attention head's circuits: singular values of its QK and OV matrices (`[D, D]`, rank ≤ E). */
export interface HeadCircuits {
  layer: number;
  head: number;
  /** Singular values of `W_Q[h] W_K[h]ᵀ`, descending, the first `d_head`. */
  qk_singular: number[];
  /** Singular values of `W_V[h] W_O[h]`, descending, the first `d_head`. */
  ov_singular: number[];
}

/** The `modular` task's Fourier picture at one checkpoint. */
export interface ModularReport {
  /** `[⌊p/2⌋ + 1]`: ‖W_E‖ in the Fourier basis per frequency k (0: the constant; cos and sin joined). */
  embed_fourier_norms: number[];
  /** This checkpoint's key frequencies, ascending. */
  key_freqs: number[];
  /**
   * The frequencies the losses, `per_freq`, `circles` and `neurons` use: the final checkpoint's key
   * frequencies, as the paper tracks restricted and excluded loss over training (an early
   * checkpoint has no clusters of its own yet).
   */
  loss_freqs: number[];
  /** `[M]`: the frequency that explains most of each neuron's activation over (x, y) (0: constant). */
  neuron_freq: number[];
  /** `[M]`: the fraction of that neuron's variance the frequency explains. */
  neuron_frac: number[];
  /** Neurons grouped by frequency (fraction explained > 0.85), one entry per frequency with any. */
  clusters: { freq: number; size: number; frac_explained: number }[];
  restricted_loss: number;
  excluded_loss: number;
  /** Per frequency of `loss_freqs`: the losses with that frequency alone kept, or alone removed. */
  per_freq: { freq: number; restricted_loss: number; excluded_loss: number }[];
  /** Per frequency of `loss_freqs`, each token 0..p-1's embedding in the plane of its cos and sin. */
  circles: { freq: number; cos: number[]; sin: number[] }[];
  /** A few neurons' activations (last position) over the p² inputs, `acts[x * p + y]`. */
  neurons: { neuron: number; freq: number; acts: number[] }[];
  /** The heads' full circuits, the attention from `=` and the Fourier picture of W_E and W_U. */
  maps?: TokenMaps;
}

/**
 * Token-by-token maps of a `modular` checkpoint (`token_maps.ts`): flat, row-major, 4 significant
 * digits.
 */
export interface TokenMaps {
  /** V: the rows and columns of `qk`, the rows of `ov` (the tokens 0..p−1 and `=`). */
  d_vocab: number;
  /** D: the columns of `embed_fourier` and `unembed_fourier`. */
  d_model: number;
  heads: {
    layer: number;
    head: number;
    /** `[V * V]`: the full QK circuit `W_E W_Q[h] W_K[h]ᵀ W_Eᵀ`, query token × key token. */
    qk: number[];
    /** `[V * p]`: the full OV circuit `W_E W_V[h] W_O[h] W_U`, input token × output logit. */
    ov: number[];
    /** `[p * p]`: the attention `=` pays to `x` at input (x, y), `eq_to_x[x * p + y]`. */
    eq_to_x?: number[];
  }[];
  /** `[p * D]`: `fourierBasis(p) · W_E[:p]`, rows the constant, cos 1, sin 1, ... */
  embed_fourier: number[];
  /** `[p * D]`: `fourierBasis(p) · W_Uᵀ`, the unembedding's columns over the answers. */
  unembed_fourier: number[];
}

/** The out-of-context task's measures at one checkpoint. */
export interface OoclReport {
  /** `[p]`: cosine similarity of `W_E[i]` and `W_E[i + p]` (token and alias). */
  alias_cosine: number[];
  /** Held-out cells of `table` whose twin cell in the other table was trained: how many, and accuracy. */
  twin: { table: 1 | 2; n: number; acc: number }[];
}

/** Every head's detector scores on repeated random tokens: `CheckpointReport.sequence.detectors`. */
export interface DetectorScores {
  /** Positions of each sequence (2 · half). */
  seq_len: number;
  /** Sequences averaged over. */
  batch: number;
  /** The seed of `repeatedTokens`: the same sequences at every checkpoint. */
  seed: number;
  /** `[L][H]` */
  previous_token: number[][];
  /** `[L][H]` */
  duplicate_token: number[][];
  /** `[L][H]` */
  induction: number[][];
}

/** The two positions the in-context-learning score compares, and the score. */
export interface IclScore {
  /** 0-based position of the early loss. */
  early: number;
  /** 0-based position of the late loss. */
  late: number;
  /** loss[late] − loss[early]: negative when the model uses its context. */
  score: number;
}

/**
 * A sequence task's measures at one checkpoint (`sequence_report.ts`): a few KB whatever the task.
 *
 * @example
 * ```ts
 * import type { SequenceReport } from "./report.ts";
 * const r: SequenceReport = {
 *   loss_per_position: [3.1, 2.9, 0.4, 0.2], rows: 128, split: "test",
 *   icl: { early: 0, late: 3, score: -2.9 },
 *   detectors: {
 *     seq_len: 4, batch: 10, seed: 0, previous_token: [[0.7]], duplicate_token: [[0]], induction: [[0.1]],
 *   },
 * };
 * ```
 */
export interface SequenceReport {
  /** `[T]`: the mean loss at each position over `rows` examples; `null` where none is scored. */
  loss_per_position: (number | null)[];
  /** How many examples were averaged (at most `SEQUENCE_ROWS`, spread over the split). */
  rows: number;
  /** Which split they are from: the held-out one, or the train one when nothing is held out. */
  split: "test" | "train";
  /** Olsson et al.'s in-context-learning score; `null` when either position is unscored. */
  icl: IclScore | null;
  /** TransformerLens' `detect_head` scores of every head on repeated random tokens. */
  detectors: DetectorScores;
}

/**
 * `analysis/step_NNNNNN.json`.
 *
 * @example
 * ```ts
 * import type { CheckpointReport } from "./report.ts";
 * const r: CheckpointReport = {
 *   step: 0,
 *   progress: {
 *     step: 0, train_loss: 4.7, test_loss: 4.7, train_acc: 0, test_acc: 0,
 *     sum_sq_weights: 900, decomposition_error: 0,
 *   },
 *   example_loss: [4.7], embedding_pca: { explained: [0.1, 0.05], coords: [[0.3, -0.2]] }, heads: [],
 * };
 * ```
 */
export interface CheckpointReport {
  step: number;
  progress: ProgressRow;
  /**
   * `[N]`: each example's loss, for tasks that answer at each example's last position; empty for
   * the tasks scoring more positions (their progress and `sequence` report sample examples).
   */
  example_loss: number[];
  /** The two or three leading principal components of `W_E`'s rows. */
  embedding_pca: {
    /** Fraction of variance each component explains. */
    explained: number[];
    /** `[V][k]`: each token's coordinates. */
    coords: number[][];
  };
  heads: HeadCircuits[];
  modular?: ModularReport;
  oocl?: OoclReport;
  /** The sequence tasks' (`induction`, `brackets`, `strings`, `text`). */
  sequence?: SequenceReport;
}

/**
 * `analysis/summary.json`: the final checkpoint's headline figures.
 *
 * @example
 * ```ts
 * import type { AnalysisSummary } from "./report.ts";
 * const s: AnalysisSummary = {
 *   run: "modular_add_113", step: 25000, checkpoints: 26, train_loss: 1e-7, test_loss: 2e-7,
 *   test_acc: 1, decomposition_error: 2e-6, key_freqs: [14, 35, 41, 42, 52],
 *   restricted_loss: 3e-7, excluded_loss: 4.5,
 * };
 * ```
 */
export interface AnalysisSummary {
  run: string;
  /** The final checkpoint's step. */
  step: number;
  /** How many checkpoints were analysed. */
  checkpoints: number;
  train_loss: number;
  test_loss: number | null;
  test_acc: number | null;
  decomposition_error?: number;
  key_freqs?: number[];
  restricted_loss?: number;
  excluded_loss?: number;
  gini_embed?: number;
  alias_alignment?: number;
  twin_acc?: number;
}

/**
 * `GET /api/runs/NAME/inspect?step=S&example=I`: one input at one checkpoint.
 *
 * @example
 * ```ts
 * import type { InspectReport } from "./report.ts";
 * const r: InspectReport = {
 *   step: 500, example: 30, tokens: ["1", "7", "="], target: 8, prediction: 8, loss: 0.01,
 *   patterns: [[[[1, 0, 0], [0.5, 0.5, 0], [0.2, 0.3, 0.5]]]],
 *   dla: { labels: ["embed", "L0H0"], values: [0.1, 3.2] },
 *   logit_lens: { labels: ["resid_pre 0", "resid_post 0"], target_logit: [0.1, 9], target_prob: [0, 1], target_rank: [40, 0] },
 *   patching: {
 *     corrupt_example: 31, metric: "logit difference (clean answer − corrupt answer), 0 = corrupt run, 1 = clean run",
 *     resid_pre: [[0, 0, 1]], head_out: [[0.9]], mlp_out: [[0, 0, 0.1]],
 *   },
 * };
 * ```
 */
export interface InspectReport {
  step: number;
  example: number;
  /** The example's tokens, as labels. */
  tokens: string[];
  target: number;
  /** The argmax at the last position. */
  prediction: number;
  loss: number;
  /** `[L][H][T][T]` (query, key): `blocks.L.attn.hook_pattern` of this example. */
  patterns: number[][][][];
  /** Direct logit attribution to the target's logit at the last position; the values sum to it. */
  dla: { labels: string[]; values: number[] };
  /** The target read off the residual stream after each stage (logit lens). */
  logit_lens: {
    labels: string[];
    target_logit: number[];
    target_prob: number[];
    /** 0 when the target is the argmax. */
    target_rank: number[];
  };
  /**
   * Activation patching from this (clean) example into `corrupt_example` (another input with another
   * answer): the metric after each patch, 0 = corrupt's, 1 = clean's; `null` everywhere when the
   * two runs score the same (an untrained model), where that scale means nothing (`metric` says so).
   */
  patching: {
    corrupt_example: number;
    metric: string;
    /** `[L][T]`: `blocks.L.hook_resid_pre` at one position. */
    resid_pre: (number | null)[][];
    /** `[L][H]`: each head's output (`hook_z`) at every position. */
    head_out: (number | null)[][];
    /** `[L][T]`: `blocks.L.hook_mlp_out` at one position (empty rows when `attn_only`). */
    mlp_out: (number | null)[][];
  };
}

/**
 * `GET /api/runs/NAME/sequence?step=S&(example=I|tokens=a,b,c|prompt=TEXT)[&pos=P][&target=U]`: one
 * sequence at one checkpoint, every position: its loss, its attention patterns, and the logit lens
 * and direct logit attribution at position `pos` (default the last) of `target`.
 *
 * @example
 * ```ts
 * import type { SequenceInspectReport } from "./report.ts";
 * const r: SequenceInspectReport = {
 *   step: 500, example: 3, tokens: ["a", "b", "a"], ids: [0, 1, 0], pos: 2, target: 1,
 *   target_from: "task", prediction: 1, target_text: "b", prediction_text: "b", loss: [2.1, 1.9, 0.1],
 *   patterns: [[[[1, 0, 0], [0.5, 0.5, 0], [0.1, 0.8, 0.1]]]],
 *   dla: { labels: ["embed", "L0H0"], values: [0.1, 3.2] },
 *   logit_lens: { labels: ["resid_pre 0", "resid_post 0"], target_logit: [0.1, 9], target_prob: [0, 1], target_rank: [40, 0] },
 * };
 * ```
 */
export interface SequenceInspectReport {
  step: number;
  /** The task's example looked at, or `null` for tokens or a prompt given in the request. */
  example: number | null;
  /** `[T]`: the tokens as labels. */
  tokens: string[];
  /** `[T]`: the token ids. */
  ids: number[];
  /** The position the logit lens and the attribution read. */
  pos: number;
  /** The token whose logit they follow at `pos`. */
  target: number;
  /**
   * Where `target` came from: the request (`given`), the task's target at `pos` (`task`), the
   * prompt's next token (`next token`), or, at a prompt's last position, the model's argmax
   * (`prediction`).
   */
  target_from: "given" | "task" | "next token" | "prediction";
  /** The argmax at `pos`. */
  prediction: number;
  /** `target`'s and `prediction`'s text. */
  target_text: string;
  prediction_text: string;
  /** `[T]`: the loss at each position where a target is known (the task's, or the next token). */
  loss: (number | null)[];
  /** `[L][H][T][T]` (query, key): `blocks.L.attn.hook_pattern`. */
  patterns: number[][][][];
  /** Direct logit attribution to `target`'s logit at `pos`; the values sum to it. */
  dla: { labels: string[]; values: number[] };
  /** `target` read off the residual stream at `pos` after each stage. */
  logit_lens: {
    labels: string[];
    target_logit: number[];
    target_prob: number[];
    target_rank: number[];
  };
}

/**
 * `GET /api/runs/NAME/patch?step=S&(example=I|tokens=..|prompt=..)&(partner=J|corrupt_tokens=..|
 * corrupt=TEXT)`: activation patching from a clean sequence into a corrupted one of the same
 * length, scored by the logit difference at the final position.
 *
 * @example
 * ```ts
 * import type { SequencePatchingReport } from "./report.ts";
 * const r: SequencePatchingReport = {
 *   step: 500, clean: ["a", "b", "a"], corrupt: ["c", "b", "c"], clean_answer: 1, corrupt_answer: 2,
 *   metric: "logit difference ...", clean_value: 4, corrupt_value: -3,
 *   resid_pre: [[0, 0, 1]], head_out: [[0.9]], mlp_out: [[]], patched: true, answer_texts: ["b", "c"],
 *   attribution: { resid_pre: [[0, 0, 0.8]], head_out: [[0.85]], correlation: { resid_pre: 0.99, head_out: null } },
 * };
 * ```
 */
export interface SequencePatchingReport {
  step: number;
  /** `[T]`: the clean tokens as labels. */
  clean: string[];
  /** `[T]`: the corrupted tokens as labels. */
  corrupt: string[];
  /** The clean sequence's answer at the final position (its target, else the clean argmax). */
  clean_answer: number;
  /** The corrupted one's (its target, else the corrupted run's argmax). */
  corrupt_answer: number;
  /** What the values are (restored fraction of the logit difference), and why `null` if so. */
  metric: string;
  /** logit[clean_answer] − logit[corrupt_answer] at the final position, clean run. */
  clean_value: number;
  /** The same on the corrupted run. */
  corrupt_value: number;
  /** `[L][T]`: `blocks.L.hook_resid_pre` at one position patched; 0 = corrupt, 1 = clean. */
  resid_pre: (number | null)[][];
  /** `[L][H]`: one head's `hook_z` at every position patched. */
  head_out: (number | null)[][];
  /** `[L][T]`: `blocks.L.hook_mlp_out` at one position (empty rows when `attn_only`). */
  mlp_out: (number | null)[][];
  /**
   * Whether the real patches ran; without them (`patching=0`: attribution alone) `resid_pre`,
   * `head_out` and `mlp_out` are empty and the correlations `null`.
   */
  patched: boolean;
  /** The two answers' texts: `[clean_answer, corrupt_answer]`. */
  answer_texts: [string, string];
  /**
   * Attribution patching's estimate of the same patches (`attributionSweep`), on the same
   * restored-fraction scale, and its Pearson correlation with the real patches over each sweep
   * (`null` where undefined: a constant sweep).
   */
  attribution: {
    /** `[L][T]` */
    resid_pre: (number | null)[][];
    /** `[L][H]` */
    head_out: (number | null)[][];
    correlation: { resid_pre: number | null; head_out: number | null };
  };
}
