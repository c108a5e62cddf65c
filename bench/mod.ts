/**
 * `deno task bench`: mechlab's benchmarks. Each part prints what it ran on and its figures as
 * ratios against a peer measured in the same run. Record measured figures in `bench/RESULTS.md`.
 *
 * @module
 */

import { benchGpu } from "./gpu_bench.ts";
import { benchTensor } from "./tensor_bench.ts";

console.log(`mechlab bench, ${new Date().toISOString()}\n`);
console.log("== tensor library (CPU) ==");
await benchTensor();

console.log("\n== GPU engine ==");
await benchGpu();
