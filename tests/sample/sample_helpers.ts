// What the sample tests share: a tiny trained run and the float64 reference's logits on it.
import * as assert from "node:assert/strict";
import { openAnalysisRun } from "../../engine/analysis/run_data.ts";
import { DEFAULT_MODEL, type ModelConfig } from "../../engine/model/config.ts";
import { cpuForward } from "../../engine/model/cpu_forward.ts";
import { unflatten } from "../../engine/model/params.ts";
import { readCheckpointParams } from "../../engine/runs/checkpoint.ts";
import { mechlab } from "../helpers.ts";

/**
 * A small GPT-shaped model for the sample tests: two layers, LayerNorm, GELU, every bias, 11
 * tokens, `n_ctx` positions.
 */
export function sampleConfig(n_ctx: number): ModelConfig {
  return {
    ...DEFAULT_MODEL,
    n_layers: 2,
    d_model: 16,
    n_heads: 2,
    d_head: 8,
    d_mlp: 32,
    d_vocab: 11,
    d_vocab_out: 11,
    n_ctx,
    act_fn: "gelu",
    normalization_type: "LN",
    trainable_biases: "all",
    initializer_range: 0.5,
    seed: 3,
  };
}

/**
 * A run `t` of the smoke preset made tiny (p = 7, an 8-wide model; every label one character, so
 * "35=" is its prompt for 3 + 5), checkpoints at 0 and 20, trained on the CPU into `runs`.
 */
export async function trainTiny(runs: string): Promise<string> {
  const train = await mechlab(
    ...["train", "--preset=smoke", "--p=7", "--d-model=8", "--n-heads=2", "--d-head=4"],
    ...["--d-mlp=16", "--steps=20", "--eval-every=10", "--checkpoint-every=20", "--device=cpu"],
    `--out=${runs}`,
    "--name=t",
  );
  assert.equal(train.code, 0, train.err);
  return `${runs}/t`;
}

/** The float64 reference forward's logits after `tokens` at the checkpoint of `step`. */
export async function referenceLogits(
  run: string,
  step: number,
  tokens: number[],
): Promise<number[]> {
  const opened = await openAnalysisRun(run);
  const path = opened.checkpoints.find((c) => c.step === step)!.path;
  const { params } = await readCheckpointParams(path, opened.layout);
  const cfg = opened.config.model;
  const { data } = cpuForward(cfg, unflatten(opened.layout, params), Int32Array.from(tokens), 1)
    .logits;
  return Array.from(data.subarray((tokens.length - 1) * cfg.d_vocab_out));
}

/** The index of the largest value (the first on ties). */
export function argmax(values: number[]): number {
  return values.indexOf(Math.max(...values));
}

/** `softmax(logits)[i]` in float64. */
export function softmaxAt(logits: number[], i: number): number {
  const max = Math.max(...logits);
  return Math.exp(logits[i]! - max) / logits.reduce((s, l) => s + Math.exp(l - max), 0);
}
