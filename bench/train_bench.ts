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
import { type Device, startRun } from "../engine/train/run.ts";

/** Trains `preset` in a temporary folder: ms per step, and when test accuracy first reached `target`. */
async function timeRun(
  preset: string,
  overrides: Overrides,
  device: Device,
  target: number,
): Promise<{ msPerStep: number; hit?: { step: number; seconds: number }; steps: number }> {
  const config = resolveConfig(preset, overrides, meta.version);
  const parent = await Deno.makeTempDir();
  const seen: { step: number; at: number }[] = [];
  let hit: { step: number; seconds: number } | undefined;
  try {
    await startRun(config, { parent, name: "bench", force: false }, {
      device,
      onMetrics: (step, m) => {
        const at = performance.now();
        seen.push({ step, at });
        if (hit === undefined && m["test/acc"]! >= target) {
          hit = { step, seconds: (at - seen[0]!.at) / 1000 };
        }
      },
      shouldStop: () => hit !== undefined && target < 1,
    });
  } finally {
    await Deno.remove(parent, { recursive: true });
  }
  // From the first evaluation (after compilation and upload) to the last: steps plus evaluations.
  const first = seen[0]!;
  const last = seen.at(-1)!;
  const msPerStep = (last.at - first.at) / Math.max(1, last.step - first.step);
  return { msPerStep, steps: last.step, ...(hit ? { hit } : {}) };
}

/** Runs a PyTorch reference script; its stdout, or undefined where python3 or torch is missing. */
async function python(script: string, args: string[]): Promise<string | undefined> {
  for (const py of ["/usr/bin/python3", "python3"]) {
    try {
      const out = await new Deno.Command(py, { args: [script, ...args], stderr: "piped" }).output();
      if (out.success) return new TextDecoder().decode(out.stdout);
    } catch {
      // not there: try the next
    }
  }
  return undefined;
}

/** Runs the training benchmark: `full` to the end of the grokking run; `smoke` against torch. */
export async function benchTrain(options: { full: boolean; smoke: boolean; torchGrok?: string }) {
  const gpu = await requestGpu().catch(() => undefined);
  const adapter = gpu?.describe() ?? "none (CPU path)";
  gpu?.destroy();
  console.log(`adapter: ${adapter}`);
  const device: Device = gpu ? "gpu" : "cpu";
  const software = gpu === undefined || /software fallback/.test(adapter);

  // The grokking preset's step time; on a software adapter a handful of steps is all that fits.
  const steps = options.full ? 25000 : software ? 4 : 500;
  const grok = await timeRun(
    "grokking",
    { train: { steps, eval_every: options.full ? 100 : steps, checkpoint_every: steps } },
    device,
    0.99,
  );
  console.log(
    `grokking preset (p = 113, 3,830 examples, full batch): ${
      grok.msPerStep.toFixed(3)
    } ms/step, ` +
      `${(1000 / grok.msPerStep).toFixed(1)} steps/s over ${grok.steps} steps (evaluation every ` +
      `${options.full ? 100 : steps} included)`,
  );
  if (options.full) {
    console.log(
      grok.hit
        ? `  test accuracy 0.99 first at step ${grok.hit.step}, ${grok.hit.seconds.toFixed(1)} s`
        : "  test accuracy never reached 0.99",
    );
  }
  if (options.torchGrok) {
    for (const mode of ["eager", "graph"]) {
      const out = await python(options.torchGrok, [String(options.full ? 25000 : 500), mode]);
      console.log(
        `  peer, torch_grok.py ${mode}: ${out?.trim().split("\n").at(-1) ?? "did not run"}`,
      );
    }
  }

  if (options.smoke) {
    // torch_small.py's configuration: p 23, frac 0.5, d_model 64, 4 heads, d_mlp 256, lr 3e-3, wd 1.
    const smoke = await timeRun(
      "smoke",
      { train: { steps: 4000, checkpoint_every: 4000 } },
      "auto",
      0.95,
    );
    console.log(
      `smoke preset on ${software ? "the software adapter" : "the GPU"}: ` +
        `${smoke.msPerStep.toFixed(1)} ms/step; test accuracy 0.95 ` +
        (smoke.hit
          ? `at step ${smoke.hit.step}, ${smoke.hit.seconds.toFixed(1)} s`
          : "not reached"),
    );
    const script = new URL("../../shared/reference/torch_small.py", import.meta.url).pathname;
    const out = await python(script, ["23", "0.5", "64", "4", "256", "3e-3", "1.0", "4000"]);
    console.log(`  peer, torch_small.py (same configuration): ${out?.trim() ?? "did not run"}`);
  }
}
