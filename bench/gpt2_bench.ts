/**
 * The GPT-2 benchmark (issue 13, item 4): a random model of GPT-2 small's shape (124M parameters,
 * `bench/make_random_gpt2.py`, the hub file's shapes and dtype) imported, run and sampled on the
 * CPU (the f32 model, one thread) and the GPU, against the same folder in plain PyTorch on the CPU
 * (`bench/torch_gpt2.py`) in the same run: the import (read, TransformerLens names, weight
 * processing, write) against PyTorch's load; one forward over 64 tokens; greedy tokens per second
 * with the key-value cache from a one-token prompt; each one's peak resident memory. Each mechlab
 * phase runs in a process of its own (`bench/gpt2_phase.ts`) so that its peak is its own.
 *
 * Threads: mechlab's CPU path uses one; a software adapter (lavapipe) one per core. PyTorch runs
 * twice, on one thread (the CPU path's peer) and on one per core (lavapipe's), and each mechlab
 * forward is divided by its peer's. With std-0.3 random weights the logits have near-ties, so the
 * table says how many first tokens agree.
 *
 * @module
 */

import { join } from "node:path";
import { CPU_TOKENS, FORWARD_T, GPU_TOKENS } from "./gpt2_phase.ts";
import { printTable, runPython } from "./timing.ts";

/** What a phase or PyTorch's run measured (its JSON line). */
interface Measured {
  import_s?: number;
  load_s?: number;
  forward64_ms?: number;
  tokens_per_s?: number;
  tokens?: number[];
  peak_mb?: number;
  adapter?: string;
}

/** Runs `bench/gpt2_phase.ts ARGS` in a fresh process: its JSON line, or the error's last line. */
async function phase(args: string[]): Promise<Measured | string> {
  const script = new URL("./gpt2_phase.ts", import.meta.url).pathname;
  const out = await new Deno.Command(Deno.execPath(), { args: ["run", "-A", script, ...args] })
    .output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes).trim().split("\n");
  if (!out.success) return text(out.stderr).filter((l) => l.includes("rror")).at(0) ?? "failed";
  return JSON.parse(text(out.stdout).at(-1)!);
}

/** How many leading tokens `a` and `b` share, as "k of n" (random weights have near-ties). */
function sameLead(a: number[] = [], b: number[] = []): string {
  let k = 0;
  while (k < Math.min(a.length, b.length) && a[k] === b[k]) k++;
  return `${k} of ${Math.min(a.length, b.length)}`;
}

const fixed = (x: number | undefined, digits: number) => x === undefined ? "" : x.toFixed(digits);

/**
 * Prints the import time, the 64-token forward (and its ratio to PyTorch's), sampling speed and
 * peak memory of a GPT-2-small-shaped model on the CPU, the GPU and PyTorch's CPU.
 *
 * @example
 * ```ts ignore
 * await benchGpt2();
 * ```
 */
export async function benchGpt2(): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "mechlab-gpt2-bench-" });
  try {
    const hf = join(dir, "gpt2_random");
    const script = new URL("./make_random_gpt2.py", import.meta.url).pathname;
    if (await runPython([script, hf]) === undefined) {
      console.log("no python3 with numpy: bench/make_random_gpt2.py did not run");
      return;
    }
    const weightsMb = (await Deno.stat(join(hf, "model.safetensors"))).size / 2 ** 20;
    const imported = await phase(["import", hf, dir]);
    if (typeof imported === "string") throw new Error(`import: ${imported}`);
    const run = join(dir, "gpt2");
    const cpu = await phase(["cpu", run]);
    if (typeof cpu === "string") throw new Error(`CPU: ${cpu}`);
    const gpu = await phase(["gpu", run]);
    const cores = navigator.hardwareConcurrency;
    const torch: Record<number, Measured | undefined> = {};
    for (const threads of new Set([1, cores])) {
      const args = [new URL("./torch_gpt2.py", import.meta.url).pathname, hf, `${CPU_TOKENS}`];
      const out = await runPython([...args, `${threads}`]);
      torch[threads] = out === undefined ? undefined : JSON.parse(out);
    }
    const ratio = (ms: number | undefined, peer: Measured | undefined) =>
      ms === undefined || peer?.forward64_ms === undefined
        ? ""
        : (ms / peer.forward64_ms).toFixed(2);
    const rows = [[
      "",
      "import / load s",
      `forward ${FORWARD_T} tokens ms`,
      "× PyTorch's",
      "greedy tokens/s",
      "peak memory MiB",
      "same first tokens as CPU",
    ]];
    rows.push([
      "mechlab import",
      fixed(imported.import_s, 1),
      "",
      "",
      "",
      fixed(imported.peak_mb, 0),
    ]);
    rows.push([
      "mechlab CPU (f32, one thread)",
      "",
      fixed(cpu.forward64_ms, 0),
      ratio(cpu.forward64_ms, torch[1]),
      fixed(cpu.tokens_per_s, 2),
      fixed(cpu.peak_mb, 0),
      "",
    ]);
    if (typeof gpu === "string") {
      console.log(`no GPU: ${gpu}`);
    } else {
      rows.push([
        `mechlab GPU (${gpu.adapter}; ${GPU_TOKENS} tokens)`,
        "",
        fixed(gpu.forward64_ms, 0),
        ratio(gpu.forward64_ms, torch[cores]),
        fixed(gpu.tokens_per_s, 2),
        fixed(gpu.peak_mb, 0),
        sameLead(gpu.tokens, cpu.tokens),
      ]);
    }
    for (const [threads, t] of Object.entries(torch)) {
      if (t === undefined) {
        console.log("no python3 with torch: bench/torch_gpt2.py did not run");
        continue;
      }
      rows.push([
        `PyTorch CPU (torch_gpt2.py, ${threads} thread${threads === "1" ? "" : "s"})`,
        fixed(t.load_s, 1),
        fixed(t.forward64_ms, 0),
        "",
        fixed(t.tokens_per_s, 2),
        fixed(t.peak_mb, 0),
        sameLead(t.tokens, cpu.tokens),
      ]);
    }
    console.log(
      `GPT-2 small's shape (124M parameters, ${weightsMb.toFixed(0)} MiB of f32 weights), random ` +
        `weights, ${CPU_TOKENS} greedy tokens; × PyTorch's: the CPU path against one thread, ` +
        `the GPU against ${cores} (a software adapter's threads)`,
    );
    printTable(rows);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
