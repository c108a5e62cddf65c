/**
 * The difference of two runs' `config.json`: the leaves (numbers, strings, booleans, null, empty
 * containers) by dotted path, and those whose values differ or exist on one side only.
 *
 * @module
 */

/** A path's value on each side; `undefined` where that config lacks the path. */
export interface DiffRow {
  path: string;
  a: unknown;
  b: unknown;
}

/**
 * The leaves of a JSON value by dotted path (array items by index). An empty object or array is
 * a leaf, so that `{}` against `{ x: 1 }` shows.
 *
 * @example
 * ```ts
 * import { flattenLeaves } from "./diff.ts";
 * flattenLeaves({ train: { lr: 0.01 }, dims: [2, 3], tags: [] });
 * // Map { "train.lr" => 0.01, "dims.0" => 2, "dims.1" => 3, "tags" => [] }
 * ```
 */
export function flattenLeaves(value: unknown, prefix = ""): Map<string, unknown> {
  const out = new Map<string, unknown>();
  walk(value, prefix, out);
  return out;
}

function walk(value: unknown, path: string, out: Map<string, unknown>): void {
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value);
    if (entries.length > 0) {
      for (const [k, v] of entries) walk(v, path === "" ? k : `${path}.${k}`, out);
      return;
    }
  }
  out.set(path, value);
}

/**
 * The leaves that differ between two configs, sorted by path. Values compare as JSON text, so
 * `1` and `1.0` are equal and `1` and `"1"` are not.
 *
 * @example
 * ```ts
 * import { diffConfigs } from "./diff.ts";
 * diffConfigs(
 *   { preset: "smoke", train: { lr: 0.01, steps: 1500 } },
 *   { preset: "smoke", train: { lr: 0.003, steps: 1500 }, extra: true },
 * ); // [{ path: "extra", a: undefined, b: true }, { path: "train.lr", a: 0.01, b: 0.003 }]
 * ```
 */
export function diffConfigs(a: unknown, b: unknown): DiffRow[] {
  const la = flattenLeaves(a), lb = flattenLeaves(b);
  const paths = new Set([...la.keys(), ...lb.keys()]);
  const rows: DiffRow[] = [];
  for (const path of paths) {
    const va = la.get(path), vb = lb.get(path);
    const same = la.has(path) === lb.has(path) && JSON.stringify(va) === JSON.stringify(vb);
    if (!same) rows.push({ path, a: va, b: vb });
  }
  return rows.sort((x, y) => x.path < y.path ? -1 : x.path > y.path ? 1 : 0);
}

/**
 * A leaf as the diff shows it: JSON text (strings quoted), `—` where absent.
 *
 * @example
 * ```ts
 * import { formatLeaf } from "./diff.ts";
 * formatLeaf("add"); // "\"add\""
 * formatLeaf(undefined); // "—"
 * ```
 */
export function formatLeaf(value: unknown): string {
  return value === undefined ? "—" : JSON.stringify(value);
}
