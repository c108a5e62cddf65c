/**
 * Timing for the benchmarks: the median or the best of several runs after a warm-up, and a plain
 * table printer.
 *
 * @module
 */

/**
 * The median wall time of `fn` in milliseconds over `runs` runs, after one warm-up run. Runs stop
 * early once `budgetMs` is spent (at least three are kept), so slow peers stay affordable.
 *
 * @example
 * ```ts
 * import { medianMs } from "./timing.ts";
 * const ms = medianMs(() => Math.sqrt(2), { runs: 5 });
 * ```
 */
export function medianMs(
  fn: () => unknown,
  options: { runs?: number; budgetMs?: number } = {},
): number {
  const { runs = 7, budgetMs = 5000 } = options;
  fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < runs && (times.length < 3 || performance.now() - start < budgetMs)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/**
 * The best wall time of async `fn` in milliseconds over `runs` runs (default 3), after one warm-up
 * run (GPU pipelines, caches).
 *
 * @example
 * ```ts
 * import { bestMs } from "./timing.ts";
 * const ms = await bestMs(() => Promise.resolve(Math.sqrt(2)), 2);
 * ```
 */
export async function bestMs(fn: () => Promise<unknown>, runs = 3): Promise<number> {
  await fn();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

/**
 * Prints rows as an aligned text table, the first row being the header.
 *
 * @example
 * ```ts
 * import { printTable } from "./timing.ts";
 * printTable([["op", "ms"], ["matmul", "1.0"]]);
 * ```
 */
export function printTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length)));
  for (const [i, row] of rows.entries()) {
    console.log(
      row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join(
        "  ",
      ),
    );
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
}

/**
 * Runs `python3 ARGS` with the first interpreter that succeeds, the one on PATH and then Debian's
 * (where `apt-get install python3-torch` puts PyTorch); its stdout, or undefined if none did.
 *
 * @example
 * ```ts
 * import { runPython } from "./timing.ts";
 * const out = await runPython(["-c", "print(1 + 1)"]); // "2\n", or undefined without python3
 * ```
 */
export async function runPython(args: string[]): Promise<string | undefined> {
  for (const python of ["python3", "/usr/bin/python3"]) {
    try {
      const out = await new Deno.Command(python, { args, stderr: "null" }).output();
      if (out.success) return new TextDecoder().decode(out.stdout);
    } catch {
      // not there: try the next
    }
  }
  return undefined;
}
