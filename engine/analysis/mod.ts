/**
 * Looking inside a trained model: the analyses `mechlab analyze` runs over every checkpoint and
 * the page's views show. Each reads a TransformerLens-named cache (`engine/hooks`) and weights, in
 * float64:
 *
 * - attribution: `logitAttribution` (direct logit attribution per head, MLP and embedding, whose
 *   parts sum to the logits), `logitLens`; circuits: `headCircuits`, `qkMatrix`, `ovMatrix`,
 *   `fullOvCircuit`; `embeddingPca`;
 * - interventions: `patchingSweep` (residual by layer and position, each head, each MLP, batched);
 * - the grokking paper's measures for `modular` tasks: Fourier norms, key frequencies, neuron
 *   clusters, restricted and excluded loss, Gini coefficients (`modularMeasures`); the
 *   out-of-context experiment's (`ooclReport`);
 * - sequences: `lossPerToken` and the in-context-learning score, TransformerLens' head detectors
 *   (`detectHeads`), `sequenceMeasures` for `analyze`; on demand, `inspectSequence` (attention,
 *   lens and attribution at any position of an example or a prompt) and `patchSequence`;
 * - across training: `analyzeRun` writes `runs/NAME/analysis/` (shapes in `report.ts`), and
 *   `inspectExample` looks at one input on demand.
 *
 * @module
 */

export * from "./report.ts";
export * from "./decompose.ts";
export * from "./logit_lens.ts";
export * from "./circuits.ts";
export * from "./embedding.ts";
export * from "./patching.ts";
export * from "./scalars.ts";
export * from "./frequencies.ts";
export * from "./embed_fourier.ts";
export * from "./neuron_freqs.ts";
export * from "./restricted_loss.ts";
export * from "./modular_report.ts";
export * from "./oocl_measures.ts";
export * from "./run_data.ts";
export * from "./checkpoint_report.ts";
export * from "./analyze_run.ts";
export * from "./inspect.ts";
export * from "./loss_per_position.ts";
export * from "./head_detector.ts";
export * from "./sequence_report.ts";
export * from "./sequence_input.ts";
export * from "./sequence_inspect.ts";
export * from "./sequence_patching.ts";
