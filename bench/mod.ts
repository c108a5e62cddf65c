/**
 * `deno task bench`: mechlab's benchmarks. Each part prints what it ran on and its figures as
 * ratios against a peer measured in the same run. Record measured figures in `bench/RESULTS.md`.
 *
 * `--part tensor|gpu|attention|train|tinygpt|sample|gpt2|analysis|attribution|serve|sweep` runs
 * one part (default: all); `--full` trains the grokking preset to the end; `--smoke` races the
 * smoke preset against torch_small.py; `--torch-grok PATH` runs the PyTorch grokking reference in
 * the same command (on the GPU host).
 * `--part sweep`: M members together against M solo runs; `--members 1,8,64` (the M),
 * `--sweep-preset grokking` (the adapter's rows), `--sweep-steps 1,1` (warm, then timed steps, one
 * submit, of each build: a solo member or a group), `--sweep-rounds 2` (rounds of every build,
 * solo and group alternating first; also the whole runs' rounds), `--run-steps 20` (the smoke
 * preset's steps a member in the whole-run rows; `--cpu-steps`, its older name, still reads),
 * `--sweep-on gpu|cpu|both|gpu-runs` (which rows: the adapter's steps, whole runs on the CPU path,
 * both, or whole runs on the adapter: one `sweep --device gpu` against M `train --device gpu`).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { benchAnalysis } from "./analysis_bench.ts";
import { benchAttribution } from "./attribution_bench.ts";
import { benchAttention } from "./attention_bench.ts";
import { benchGpt2 } from "./gpt2_bench.ts";
import { benchGpu } from "./gpu_bench.ts";
import { benchSample } from "./sample_bench.ts";
import { benchServe } from "./serve_bench.ts";
import { benchTensor } from "./tensor_bench.ts";
import { benchTinygpt } from "./tinygpt_bench.ts";
import { benchSweep } from "./sweep_bench.ts";
import { benchTrain } from "./train_bench.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    part: { type: "string" },
    full: { type: "boolean" },
    smoke: { type: "boolean" },
    "torch-grok": { type: "string" },
    members: { type: "string", default: "1,8,64" },
    "sweep-preset": { type: "string", default: "grokking" },
    "sweep-steps": { type: "string", default: "1,1" },
    "sweep-rounds": { type: "string", default: "2" },
    "run-steps": { type: "string" },
    "cpu-steps": { type: "string" },
    "sweep-on": { type: "string", default: "both" },
  },
});
const PARTS = [
  "tensor",
  "gpu",
  "attention",
  "train",
  "tinygpt",
  "sample",
  "gpt2",
  "analysis",
  "attribution",
  "serve",
  "sweep",
];
const part = values.part;
if (part !== undefined && !PARTS.includes(part)) {
  console.error(`bench: --part ${part}: expected one of ${PARTS.join(", ")}`);
  Deno.exit(2);
}
console.log(`mechlab bench, ${new Date().toISOString()}\n`);
if (part === undefined || part === "tensor") {
  console.log("== tensor library (CPU) ==");
  await benchTensor();
}
if (part === undefined || part === "gpu") {
  console.log("\n== GPU engine ==");
  await benchGpu();
}
if (part === undefined || part === "attention") {
  console.log("\n== attention (GPU) ==");
  await benchAttention();
}
if (part === undefined || part === "train") {
  console.log("\n== training ==");
  await benchTrain({
    full: values.full === true,
    smoke: values.smoke === true,
    ...(values["torch-grok"] ? { torchGrok: values["torch-grok"] } : {}),
  });
}
if (part === undefined || part === "tinygpt") {
  console.log("\n== training tinygpt on the CPU and the GPU against PyTorch CPU ==");
  await benchTinygpt();
}
if (part === undefined || part === "sample") {
  console.log("\n== sampling: 256 tokens with and without the key-value cache ==");
  await benchSample();
}
if (part === undefined || part === "gpt2") {
  console.log("\n== GPT-2 small's shape: import, forward and sampling against PyTorch CPU ==");
  await benchGpt2();
}
if (part === undefined || part === "analysis") {
  console.log("\n== analysis ==");
  await benchAnalysis();
}
if (part === undefined || part === "attribution") {
  console.log("\n== attribution patching against patching, one prompt pair ==");
  await benchAttribution();
}
if (part === undefined || part === "serve") {
  console.log("\n== the server while a run trains ==");
  await benchServe();
}
if (part === undefined || part === "sweep") {
  console.log("\n== many models at once: M members together against M solo runs ==");
  const [warm, timed] = values["sweep-steps"].split(",").map(Number);
  const rounds = Number(values["sweep-rounds"]);
  if (!Number.isInteger(warm) || warm! < 0 || !Number.isInteger(timed) || timed! < 1) {
    console.error(`bench: --sweep-steps ${values["sweep-steps"]}: expected WARM,TIMED (e.g. 1,1)`);
    Deno.exit(2);
  }
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error(`bench: --sweep-rounds ${values["sweep-rounds"]}: expected a positive integer`);
    Deno.exit(2);
  }
  const on = values["sweep-on"];
  if (!["gpu", "cpu", "both", "gpu-runs"].includes(on)) {
    console.error(`bench: --sweep-on ${on}: expected gpu, cpu, both or gpu-runs`);
    Deno.exit(2);
  }
  const runStepsFlag = values["run-steps"] ?? values["cpu-steps"] ?? "20";
  const runSteps = Number(runStepsFlag);
  if (!Number.isInteger(runSteps) || runSteps < 1) {
    console.error(`bench: --run-steps ${runStepsFlag}: expected a positive integer`);
    Deno.exit(2);
  }
  await benchSweep({
    members: values.members.split(",").map(Number),
    preset: values["sweep-preset"],
    warm: warm!,
    timed: timed!,
    rounds,
    runSteps,
    on: on as "gpu" | "cpu" | "both" | "gpu-runs",
  });
}
