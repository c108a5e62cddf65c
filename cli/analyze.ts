/**
 * `mechlab analyze --run runs/NAME`: computes the interpretability measures of every checkpoint of
 * a run (losses, direct logit attribution and its error, circuits, embedding PCA, and the task's
 * own: the grokking paper's Fourier measures, the out-of-context experiment's alias alignment, a
 * sequence task's or an imported model's loss per position and head detectors)
 * into `runs/NAME/analysis/` as JSON, for plotting against the step and for the page's views.
 *
 * @module
 */

import { analyzeRun } from "../engine/analysis/analyze_run.ts";
import { RunInputError } from "../engine/runs/mod.ts";
import { parseDevice, parseFlags, parseNumber } from "./args.ts";
import { UsageError } from "./errors.ts";

function help(): string {
  return [
    "mechlab analyze --run runs/NAME [flags]",
    "",
    "Analyses every checkpoint of a run into runs/NAME/analysis/: step_NNNNNN.json per checkpoint,",
    "index.json (the progress measures against the step) and summary.json (the final checkpoint's",
    "key frequencies, restricted and excluded losses, test loss and decomposition error).",
    "An imported model (mechlab import) is analysed on TransformerLens' repeated random tokens:",
    "8 rows of BOS, L = min(50, (n_ctx - 1) / 2) random tokens and the same L again (seed 0), for",
    "its loss per position, in-context-learning score and head detectors. GPT-2 small takes",
    "about 5 minutes of CPU time and 4.5 GB on the float64 CPU path.",
    "",
    "flags:",
    "  --run PATH      the run folder (required)",
    "  --device D      auto | gpu | cpu: where the model runs (default auto: a hardware GPU, else",
    "                  the float64 CPU model)",
    "  --every N       analyse every N-th checkpoint, and the last (default 1)",
    "  -h, --help      this help",
  ].join("\n");
}

/**
 * Runs `mechlab analyze` with command-line `args`.
 *
 * @example
 * ```ts ignore
 * await analyze(["--run", "runs/modular_add_23"]);
 * ```
 */
export async function analyze(args: string[]): Promise<void> {
  const { values } = parseFlags(args, {
    run: { type: "string" },
    device: { type: "string" },
    every: { type: "string" },
    help: { type: "boolean", short: "h" },
  });
  if (values.help) return console.log(help());
  if (values.run === undefined) {
    throw new UsageError("--run is required: the run folder to analyse");
  }
  const device = parseDevice(values.device);
  const every = values.every === undefined ? 1 : parseNumber("--every", values.every, "int");
  if (every < 1) {
    throw new UsageError(`--every ${values.every}: expected a positive integer`);
  }
  const t0 = performance.now();
  const summary = await analyzeRun(values.run, { device, every, log: (l) => console.log(l) })
    .catch((e: Error) => {
      throw e instanceof RunInputError ? new UsageError(e.message.split("\n")[0]!) : e;
    });
  console.log(
    `analysed ${summary.checkpoints} checkpoints in ${
      ((performance.now() - t0) / 1000).toFixed(1)
    }s: ${values.run}/analysis/summary.json`,
  );
  console.log(JSON.stringify(summary));
}
