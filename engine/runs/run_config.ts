/**
 * What a run folder's `config.json` holds: the task, the model (TransformerLens' config fields) and
 * the training settings, as resolved from a preset and flags.
 *
 * @module
 */

import type { TaskConfig } from "../data/mod.ts";
import type { ModelConfig } from "../model/config.ts";
import type { TrainConfig } from "../train/config.ts";

/** Everything a run is: saved as `config.json`, read back by `--resume`. */
export interface RunConfig {
  mechlab_version: string;
  /** The preset it started from (`smoke`, `grokking`, `oocl`). */
  preset: string;
  task: TaskConfig;
  model: ModelConfig;
  train: TrainConfig;
}
