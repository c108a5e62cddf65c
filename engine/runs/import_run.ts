/**
 * `mechlab import`'s work: a Hugging Face GPT-2 folder made into a run folder that every command
 * opens as a trained run's (`sample`, `serve`): `config.json` (task `pretrained`, the model in
 * TransformerLens' fields) and `checkpoints/final.safetensors` (TransformerLens' weight names, the
 * model config in `__metadata__.config`, step 0). No split, no metrics: it never trained here.
 * By default the weights are processed as TransformerLens' `from_pretrained` does
 * (`engine/model/process_weights.ts`); `process: false` keeps them as the file has them
 * (`from_pretrained_no_processing`).
 *
 * @module
 */

import { basename, resolve } from "node:path";
import { DEFAULT_TRAIN } from "../train/config.ts";
import { GPT2_VOCAB } from "../data/gpt2_tokenizer.ts";
import type { PretrainedTaskConfig } from "../data/task_config.ts";
import { processWeights } from "../model/process_weights.ts";
import { checkWeights, paramLayout } from "../model/params.ts";
import { readGpt2Folder } from "./hf_gpt2.ts";
import { createRunFolder } from "./run_create.ts";
import type { RunConfig } from "./run_config.ts";
import type { RunFolder } from "./run_folder.ts";
import { writeSafetensorsAtomic } from "./safetensors.ts";

/** Where and how `importGpt2` writes the run. */
export interface ImportOptions {
  /** The runs folder (default `runs`). */
  parent: string;
  /** The run's name (default: the source folder's name). */
  name?: string | undefined;
  /** Replace a run of that name. */
  force?: boolean;
  /** Process the weights as TransformerLens' `from_pretrained` (default true). */
  process?: boolean;
  /** mechlab's version, for `config.json`. */
  version: string;
}

/**
 * Imports the GPT-2 folder `from` as the run `parent/name`, atomically (nothing under the name
 * unless complete); bad input is a one-line `RunInputError` naming it.
 *
 * @example
 * ```ts ignore
 * const run = await importGpt2("downloads/gpt2", { parent: "runs", version: "0.1.0" });
 * run.path; // "runs/gpt2"
 * ```
 */
export async function importGpt2(from: string, options: ImportOptions): Promise<RunFolder> {
  const read = await readGpt2Folder(from);
  const { cfg, weights } = options.process === false
    ? read
    : processWeights(read.cfg, read.weights);
  const source = basename(resolve(from));
  const task: PretrainedTaskConfig = {
    task: "pretrained",
    // GPT-2's tokenizer has exactly its 50,257 tokens; another size shows token ids.
    tokenizer: cfg.d_vocab === GPT2_VOCAB ? "gpt2" : "none",
    source,
    d_vocab: cfg.d_vocab,
    n_ctx: cfg.n_ctx,
  };
  const config: RunConfig = {
    mechlab_version: options.version,
    preset: "import",
    task,
    model: cfg,
    // Never used (an imported model does not train here); the run folder's schema has it.
    train: DEFAULT_TRAIN,
  };
  const layout = paramLayout(cfg);
  checkWeights(layout, weights); // every weight of the layout there, in its TransformerLens shape
  // In TransformerLens' state_dict order, as a trained run's checkpoint.
  const ordered = new Map(layout.specs.map((s) => [s.name, weights.get(s.name)!]));
  const metadata = {
    config: JSON.stringify(cfg),
    mechlab: JSON.stringify(config),
    step: "0",
  };
  return await createRunFolder(options.parent, options.name ?? source, {
    force: options.force ?? false,
    fill: async (f) => {
      await f.writeJson("config.json", config);
      await writeSafetensorsAtomic(f.finalPath(), ordered, metadata);
    },
  });
}
