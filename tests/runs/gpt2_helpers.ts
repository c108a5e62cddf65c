// What the GPT-2 import tests share: fixtures/tiny_gpt2.json (fixtures/make_tiny_gpt2.py: two tiny
// random GPT-2s in Hugging Face's layout and their logits by an independent numpy forward), each
// folder imported processed and unprocessed, and log-softmax to compare them by.
import { openCheckpointedRun } from "../../engine/analysis/run_data.ts";
import type { ModelConfig } from "../../engine/model/config.ts";
import type { ParamLayout } from "../../engine/model/params.ts";
import { readCheckpointParams } from "../../engine/runs/checkpoint.ts";
import { importGpt2 } from "../../engine/runs/import_run.ts";
import { loadFixture } from "../helpers.ts";

/** fixtures/tiny_gpt2.json. */
export interface TinyGpt2Fixture {
  tokens: number[];
  prompt: number[];
  cases: Record<"prefixed" | "bare", { logits: number[][]; greedy: number[] }>;
}

export const FIXTURE = await loadFixture<TinyGpt2Fixture>("tiny_gpt2");

/** One imported fixture: its run folder, config, layout and flat weights. */
export interface ImportedRun {
  name: string;
  fixture: "prefixed" | "bare";
  path: string;
  cfg: ModelConfig;
  layout: ParamLayout;
  params: Float32Array;
}

/**
 * Both fixture folders imported into `dir`, processed (`prefixed`, `bare`) and not
 * (`prefixed_raw`, `bare_raw`).
 */
export async function importAll(dir: string): Promise<ImportedRun[]> {
  const out: ImportedRun[] = [];
  for (const fixture of ["prefixed", "bare"] as const) {
    for (const process of [true, false]) {
      const name = process ? fixture : `${fixture}_raw`;
      const from = new URL(`../../fixtures/tiny_gpt2/${fixture}`, import.meta.url).pathname;
      await importGpt2(from, { parent: dir, name, process, version: "test" });
      const run = await openCheckpointedRun(`${dir}/${name}`);
      const { params } = await readCheckpointParams(run.checkpoints.at(-1)!.path, run.layout);
      out.push({
        name,
        fixture,
        path: run.folder.path,
        cfg: run.config.model,
        layout: run.layout,
        params,
      });
    }
  }
  return out;
}

/** Each row of `logits` [rows, V] minus its log-sum-exp: the log-probs, in float64. */
export function logSoftmaxRows(logits: ArrayLike<number>, V: number): Float64Array {
  const out = new Float64Array(logits.length);
  for (let r = 0; r < logits.length / V; r++) {
    let max = -Infinity;
    for (let v = 0; v < V; v++) max = Math.max(max, logits[r * V + v]!);
    let sum = 0;
    for (let v = 0; v < V; v++) sum += Math.exp(logits[r * V + v]! - max);
    const lse = max + Math.log(sum);
    for (let v = 0; v < V; v++) out[r * V + v] = logits[r * V + v]! - lse;
  }
  return out;
}
