/**
 * Where each example of an analysed run sits in the example grids, and what a cell says on hover.
 * `modular`: one p × p table, example `i` at `(x, y) = (⌊i/p⌋, i mod p)`. `oocl` (as
 * `engine/data/oocl.ts` orders its examples): table 1 `[true, x, y, =]` at `i = x·p + y`, table 2
 * over the aliases at `p² + i` (the same cell: the twin), then the 2p links, `i → i+p` and back.
 *
 * @module
 */

import type { AnalysisIndex } from "../types.ts";

/** One grid of examples: `rows × cols` cells, cell `(r, c)` showing example `examples[r * cols + c]`. */
export interface ExampleTable {
  /** The group it shows ("all", "table1", "table2", "links"). */
  name: string;
  rows: number;
  cols: number;
  /** `[rows * cols]`: the example index of each cell. */
  examples: number[];
  /** What the rows and the columns count ("x" and "y", the aliases' "x'" and "y'"; the links: direction and token). */
  rowAxis: string;
  colAxis: string;
}

function square(name: string, p: number, offset: number, prime = ""): ExampleTable {
  const examples = Array.from({ length: p * p }, (_, i) => offset + i);
  return { name, rows: p, cols: p, examples, rowAxis: `x${prime}`, colAxis: `y${prime}` };
}

/**
 * The grids of an analysed run's examples.
 *
 * @example
 * ```ts
 * import { exampleTables } from "./grid.ts";
 * const tables = exampleTables({ task: "oocl", p: 3 });
 * tables.map((t) => `${t.name} ${t.rows}x${t.cols}`); // ["table1 3x3", "table2 3x3", "links 2x3"]
 * tables[1]!.examples[0]; // 9: table 2 starts after table 1's p² examples
 * ```
 */
export function exampleTables(index: Pick<AnalysisIndex, "task" | "p">): ExampleTable[] {
  const p = index.p;
  if (index.task === "modular") return [square("all", p, 0)];
  const links = Array.from({ length: 2 * p }, (_, i) => 2 * p * p + i);
  return [
    square("table1", p, 0),
    square("table2", p, p * p, "'"), // over the aliases x', y'

    { name: "links", rows: 2, cols: p, examples: links, rowAxis: "direction", colAxis: "i" },
  ];
}

/**
 * What a cell of the example grid says: its inputs, answer and split; for `oocl`, the alias of a
 * table cell (its twin in the other table) and the link's two tokens.
 *
 * @example
 * ```ts
 * import { describeExample } from "./grid.ts";
 * const index = {
 *   task: "oocl" as const, p: 2, vocab: ["0", "1", "x'0", "x'1"], targets: [0, 1, 1, 0, 2, 3, 3, 2, 2, 3, 0, 1],
 *   split: [0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0], group: [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2],
 *   groups: ["table1", "table2", "links"],
 * };
 * describeExample(index, 1); // "#1 table1 (0, 1) → 1, test · alias (x'0, x'1) → x'1, test"
 * describeExample(index, 10); // "#10 links x'0 → 0, train"
 * ```
 */
export function describeExample(
  index: Pick<AnalysisIndex, "task" | "p" | "vocab" | "targets" | "split" | "group" | "groups">,
  i: number,
): string {
  const p = index.p;
  const label = (t: number) => index.vocab[t] ?? String(t);
  const split = (j: number) => ["train", "test"][index.split[j] ?? -1] ?? "in no split";
  const answer = (j: number) => `${label(index.targets[j] ?? -1)}, ${split(j)}`;
  const group = index.groups[index.group[i] ?? -1] ?? "none";
  const pp = p * p;
  if (index.task === "modular" || i < 2 * pp) {
    const table = index.task === "modular" ? 0 : Math.floor(i / pp); // 1: the aliases' table
    const [x, y] = [Math.floor((i % pp) / p), i % p];
    const here = `#${i} ${group} (${label(x + table * p)}, ${label(y + table * p)}) → ${answer(i)}`;
    if (index.task === "modular") return here;
    const [twin, o] = table === 0 ? [i + pp, p] : [i - pp, 0];
    return `${here} · alias (${label(x + o)}, ${label(y + o)}) → ${answer(twin)}`;
  }
  // Links: `[define, define, k, =]` for k < 2p (i → i+p first, then i+p → i): the input is k.
  const k = i - 2 * pp;
  return `#${i} links ${label(k)} → ${answer(i)}`;
}

/** The modulus from which p × p grids take a whole row of the analysis views (cells too small in half). */
const WIDE_P = 40;

/**
 * The class of a view of p × p grids: at a large p it spans the whole row, where its cells are
 * twice the size they would be in half of it.
 *
 * @example
 * ```ts
 * import { viewClass } from "./grid.ts";
 * viewClass(23); // "analysis-view"
 * viewClass(113); // "analysis-view wide"
 * ```
 */
export function viewClass(p: number): string {
  return p > WIDE_P ? "analysis-view wide" : "analysis-view";
}

/**
 * The example the inspect views show before a cell is clicked: the first held-out table cell
 * `(x, y)` with x and y non-zero and different, else the first held out, else the first. Held out,
 * so the views show the model generalising; not 0, the identity of add and the zero of mul, which
 * makes the answer one input (or 0) and the attention uninformative; x ≠ y, so attention to the
 * x and y positions can be told apart and the default patching partner differs in both.
 *
 * @example
 * ```ts
 * import { defaultExample } from "./grid.ts";
 * // p = 3: (0, 1) and (1, 1) are held out but uninformative; (1, 2) = #5 is the first that is not.
 * defaultExample({ task: "modular", p: 3, split: [0, 1, 0, 0, 1, 1, 0, 1, 0] }); // 5
 * defaultExample({ task: "modular", p: 2, split: [0, 0, 1, 1] }); // 2: none informative, the first held out
 * defaultExample({ task: "modular", p: 2, split: [0, 0, 0, 0] }); // 0
 * ```
 */
export function defaultExample(index: Pick<AnalysisIndex, "split" | "p" | "task">): number {
  const pp = index.p * index.p;
  const cells = index.task === "modular" ? pp : 2 * pp; // oocl: both tables, not the links
  const informative = (i: number) => {
    const [x, y] = [Math.floor((i % pp) / index.p), i % index.p];
    return i < cells && x !== 0 && y !== 0 && x !== y;
  };
  const held = index.split.findIndex((s, i) => s === 1 && informative(i));
  return held >= 0 ? held : Math.max(0, index.split.indexOf(1));
}

/**
 * The analysed step the views show for the slider's step: that step if analysed, else the latest
 * analysed step before it (the slider can stand on a checkpoint written after `analyze` ran), else
 * the first.
 *
 * @example
 * ```ts
 * import { analysedStep } from "./grid.ts";
 * analysedStep([0, 100, 200], 150); // 100
 * analysedStep([0, 100, 200], null); // 200
 * analysedStep([], 100); // null
 * ```
 */
export function analysedStep(steps: readonly number[], step: number | null): number | null {
  if (steps.length === 0) return null;
  if (step === null) return steps.at(-1)!;
  const before = steps.filter((s) => s <= step);
  return before.at(-1) ?? steps[0]!;
}
