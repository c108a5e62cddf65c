/**
 * The page's prompt views on an imported GPT-2 (or a random model of its shape,
 * `bench/make_random_gpt2.py` then `mechlab import`), each as its server worker computes it, in a
 * process of its own so that the peak memory it prints is that view's alone:
 *
 * - `inspect`: the IOI prompt's tokens with their loss, attention, logit lens and direct logit
 *   attribution (`inspectSequence`);
 * - `attr`: attribution patching alone from the corrupted prompt (`patchSequence`, `patching=0`);
 * - `patch`: attribution and every real patch (505 forward passes of 15 tokens for GPT-2 small);
 * - `detect`: the head detectors on 10 sequences of repeated random tokens.
 *
 * `deno run -A bench/gpt2_prompt.ts RUN_DIR VIEW` prints one JSON line: `{ view, s, peak_mb }`.
 *
 * @module
 */

import { headDetectorScores } from "../engine/analysis/head_detector.ts";
import { checkpointRunner, openCheckpointedRun } from "../engine/analysis/run_data.ts";
import { promptTask } from "../engine/analysis/sequence_input.ts";
import { inspectSequence } from "../engine/analysis/sequence_inspect.ts";
import { patchSequence } from "../engine/analysis/sequence_patching.ts";
import { peakMb } from "./gpt2_phase.ts";

/** The README's worked example: indirect-object identification, answers " Mary" and " John". */
const CLEAN = "When Mary and John went to the store, John gave a drink to";
const CORRUPT = "When Mary and John went to the store, Mary gave a drink to";
const [MARY, JOHN] = [5335, 1757];

/** The views, by name. */
const VIEWS = ["inspect", "attr", "patch", "detect"];

/**
 * Runs `view` on the last checkpoint of the run at `path`; returns the seconds it took.
 *
 * @example
 * ```ts ignore
 * await promptView("/tmp/g2/runs/gpt2", "inspect"); // 4.2
 * ```
 */
export async function promptView(path: string, view: string): Promise<number> {
  if (!VIEWS.includes(view)) throw new Error(`view ${view}: expected one of ${VIEWS.join(", ")}`);
  const opened = await openCheckpointedRun(path);
  const run = { ...opened, task: promptTask(opened.config.task) };
  const step = run.checkpoints.at(-1)!.step;
  const t0 = performance.now();
  if (view === "inspect") await inspectSequence(run, step, { prompt: CLEAN });
  else if (view === "detect") {
    await headDetectorScores((await checkpointRunner(run, step)).runner, run.config.model);
  } else {
    await patchSequence(run, {
      step,
      clean: { prompt: CLEAN },
      corrupt: { prompt: CORRUPT },
      answer: MARY,
      corrupt_answer: JOHN,
      patching: view === "patch",
    });
  }
  return (performance.now() - t0) / 1000;
}

if (import.meta.main) {
  const [path, view] = Deno.args;
  if (path === undefined || view === undefined) {
    console.error("usage: deno run -A bench/gpt2_prompt.ts RUN_DIR inspect|attr|patch|detect");
    Deno.exit(2);
  }
  const s = await promptView(path, view);
  console.log(JSON.stringify({ view, s: Number(s.toFixed(2)), peak_mb: peakMb() }));
}
