/**
 * The training benchmark: ms per step of the `grokking` preset on the adapter at hand and, with
 * `--full`, the step and the seconds at which its test accuracy first reaches 0.99, beside the
 * PyTorch reference run in the same command where `--torch-grok PATH` names it (on the GPU host).
 * With `--smoke`, the `smoke` preset against `torch_small.py` with the same configuration (CPU
 * PyTorch), both to test accuracy 0.95.
 *
 * @module
 */

import meta from "../deno.json" with { type: "json" };
import { requestGpu } from "../engine/gpu/mod.ts";
import { type Overrides, resolveConfig } from "../engine/train/presets.ts";
import { startRun } from "../engine/train/run.ts";
import type { Device } from "../engine/gpu/mod.ts";
import { runPython } from "./timing.ts";

/** Trains `preset` in a temporary folder: its wall time, and when test accuracy first reached `target`. */
async function timeRun(
  preset: string,
  overrides: Overrides,
  device: Device,
  target: number,
): Promise<{ ms: number; hit?: { step: number; seconds: number } }> {
  const config = resolveConfig(preset, overrides, meta.version);
  const parent = await Deno.makeTempDir();
  let first: number | undefined;
  let hit: { step: number; seconds: number } | undefined;
  const t0 = performance.now();
  try {
    await startRun(config, { parent, name: "bench", force: false }, {
      device,
      // Evaluations are read one chunk of steps late (the GPU runs the next chunk meanwhile), so
      // both the first and the hit are late alike: their difference is the time between them.
      onMetrics: (step, m) => {
        first ??= performance.now();
        if (hit === undefined && m["test/acc"]! >= target) {
          hit = { step, seconds: (performance.now() - first) / 1000 };
        }
      },
      shouldStop: () => hit !== undefined && target < 0.99,
    });
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
  return { ms: performance.now() - t0, ...(hit ? { hit } : {}) };
}

/**
 * Ms per training step of `preset`: the difference of two whole runs of `short` and `long` steps
 * (one evaluation each), so start-up, compilation and the final wait cancel out.
 */
async function msPerStep(preset: string, device: Device, short: number, long: number) {
  const run = (steps: number) =>
    timeRun(preset, { train: { steps, eval_every: steps, checkpoint_every: steps } }, device, 2);
  const a = await run(short);
  const b = await run(long);
  return (b.ms - a.ms) / (long - short);
}

/** Runs the training benchmark: `full` to the end of the grokking run; `smoke` against torch. */
export async function benchTrain(options: { full: boolean; smoke: boolean; torchGrok?: string }) {
  const gpu = await requestGpu().catch(() => undefined);
  const adapter = gpu?.describe() ?? "none (CPU path)";
  gpu?.destroy();
  console.log(`adapter: ${adapter}`);
  // On the adapter at hand, even a software one: what the GPU engine does there is the figure.
  const device: Device = gpu ? "gpu" : "cpu";
  const software = gpu === undefined || /software fallback/.test(adapter);

  // The grokking preset's step time; on a software adapter a handful of steps is all that fits.
  const [short, long] = software ? [2, 6] : [100, 1100];
  const ms = await msPerStep("grokking", device, short, long);
  console.log(
    `grokking preset (p = 113, 3,830 examples, full batch): ${ms.toFixed(3)} ms/step, ` +
      `${(1000 / ms).toFixed(1)} steps/s (runs of ${long} and ${short} steps, differenced)`,
  );
  const grok = options.full ? await timeRun("grokking", {}, device, 0.99) : undefined;
  if (grok !== undefined) {
    console.log(
      grok.hit
        ? `  test accuracy 0.99 first at step ${grok.hit.step}, ${grok.hit.seconds.toFixed(1)} s`
        : "  test accuracy never reached 0.99",
    );
  }
  if (options.torchGrok) {
    for (const mode of ["eager", "graph"]) {
      const out = await runPython([options.torchGrok, String(options.full ? 25000 : 500), mode]);
      console.log(
        `  peer, torch_grok.py ${mode}: ${out?.trim().split("\n").at(-1) ?? "did not run"}`,
      );
    }
  }

  if (options.smoke) {
    // The same configuration in both: the smoke preset's, given to torch_small.py by flags; on
    // both of mechlab's paths where there is an adapter (the issue asks for the better one).
    const cfg = resolveConfig("smoke", {}, meta.version);
    for (const path of gpu ? ["gpu", "cpu"] as const : ["cpu"] as const) {
      const step = await msPerStep("smoke", path, 50, 350);
      const run = await timeRun("smoke", {}, path, 0.95);
      console.log(
        `smoke preset, ${path === "gpu" ? adapter : "CPU path"}: ${step.toFixed(1)} ms/step; ` +
          (run.hit
            ? `test accuracy 0.95 at step ${run.hit.step}, ${run.hit.seconds.toFixed(1)} s`
            : "test accuracy 0.95 not reached") +
          ` (${(run.ms / 1000).toFixed(1)} s with start-up)`,
      );
    }
    const script = new URL("../../shared/reference/torch_small.py", import.meta.url).pathname;
    const { task, model, train } = cfg;
    const p = task.task === "modular" ? task : undefined;
    const out = await runPython([
      script,
      String(p?.p),
      String(p?.frac_train),
      String(model.d_model),
      String(model.n_heads),
      String(model.d_mlp),
      String(train.lr),
      String(train.weight_decay),
      String(train.steps),
      String(navigator.hardwareConcurrency),
    ]);
    console.log(`  peer, torch_small.py (same configuration): ${out?.trim() ?? "did not run"}`);
  }
}
