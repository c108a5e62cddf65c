/**
 * `mechlab import --from DIR`: a Hugging Face GPT-2 folder (`config.json`, `model.safetensors`)
 * made into a run folder that `sample` and `serve` open as a trained run's, its weights in
 * TransformerLens' names, processed as TransformerLens' `from_pretrained` does unless
 * `--no-process` (`engine/runs/import_run.ts`).
 *
 * @module
 */

import meta from "../deno.json" with { type: "json" };
import { importGpt2 } from "../engine/runs/import_run.ts";
import { RunInputError } from "../engine/runs/mod.ts";
import { parseFlags } from "./args.ts";
import { UsageError } from "./errors.ts";

function help(): string {
  return [
    "mechlab import --from DIR [flags]",
    "",
    "Imports a Hugging Face GPT-2 (any size of the family: DIR holds config.json and",
    "model.safetensors, as huggingface.co/gpt2 serves them) into runs/NAME: config.json and",
    "checkpoints/final.safetensors in TransformerLens' names. By default the weights are processed",
    "as TransformerLens' from_pretrained does: LayerNorm folded (normalization_type LNPre), writing",
    "weights and the unembedding centred, value biases folded into b_O; the log-probs are the same.",
    "Then: mechlab sample --run runs/NAME --prompt TEXT (text through GPT-2's tokenizer, BOS first).",
    "",
    "flags:",
    "  --from DIR      the Hugging Face folder (required)",
    "  --name NAME     the run's name (default: DIR's name)",
    "  --out DIR       the parent folder of the run (default runs)",
    "  --no-process    keep the weights as the file has them (from_pretrained_no_processing)",
    "  --force         overwrite an existing run of that name",
    "  -h, --help      this help",
  ].join("\n");
}

/**
 * Runs `mechlab import` with command-line `args`.
 *
 * @example
 * ```ts ignore
 * await importRun(["--from", "downloads/gpt2", "--name", "gpt2"]);
 * ```
 */
export async function importRun(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    from: { type: "string" },
    name: { type: "string" },
    out: { type: "string" },
    "no-process": { type: "boolean" },
    force: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return console.log(help());
  if (values.from === undefined) {
    throw new UsageError("--from is required: the folder with config.json and model.safetensors");
  }
  const t0 = performance.now();
  const run = await importGpt2(values.from, {
    parent: values.out ?? "runs",
    name: values.name,
    force: values.force === true,
    process: values["no-process"] !== true,
    version: meta.version,
  }).catch((e) => {
    throw e instanceof RunInputError || e instanceof RangeError
      ? new UsageError(e.message.split("\n")[0]!)
      : e;
  });
  const seconds = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(`imported ${values.from} into ${run.path} in ${seconds}s`);
  console.log(`next: mechlab sample --run ${run.path} --prompt "..."`);
}
