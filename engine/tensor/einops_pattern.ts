/**
 * The einops pattern language, one side of the arrow at a time. `"b (h w) ... 1"` becomes a list of
 * dimensions, each the elementary axes composed into it: `[["b"], ["h", "w"], ELLIPSIS, []]`. The
 * rules and the error wording follow einops' own parser, so a pattern that einops rejects is rejected
 * here with the message a user of einops would recognise.
 *
 * @module
 */

/** The key that stands for `...` until `einops.ts` expands it into one axis per dimension. */
export const ELLIPSIS = "…";

/** One side of a pattern, parsed. */
export interface Expression {
  /** Each dimension: the axes composed into it (none for `()` or `1`), or a bare `...`. */
  readonly groups: readonly (readonly string[] | typeof ELLIPSIS)[];
  /** Every axis key of this side: names, anonymous axes and, if present, `ELLIPSIS`. */
  readonly identifiers: ReadonlySet<string>;
  /** The size of each anonymous numeric axis (`2`, `3`) by key; every occurrence is its own axis. */
  readonly anonymous: ReadonlyMap<string, number>;
  /** Whether `...` is absent, a dimension of its own, or inside parentheses. */
  readonly ellipsis: "none" | "alone" | "grouped";
}

/** A mistake in a pattern or in the sizes given with it; `einops.ts` names the failing call. */
export class PatternError extends Error {}

const NAME = /^[\p{L}_][\p{L}\p{N}_]*$/u;

/**
 * Whether `name` can name an axis: letters, digits and underscores, not starting with a digit,
 * and, as in einops, neither starting nor ending with an underscore (`h_w` is a name, `_h` and
 * `h_` are not).
 *
 * @example
 * ```ts
 * import { isAxisName } from "./einops_pattern.ts";
 * isAxisName("h2"); // true
 * isAxisName("2h"); // false
 * isAxisName("h_"); // false
 * ```
 */
export function isAxisName(name: string): boolean {
  return nameProblem(name) === undefined;
}

/**
 * Parses one side of an einops pattern. Anonymous axes get keys like `"2-axis#left0"` that no
 * name can equal, because in einops two `2`s are never the same axis.
 *
 * @example
 * ```ts
 * import { parseExpression } from "./einops_pattern.ts";
 * parseExpression("b (h w) 1", "left").groups; // [["b"], ["h", "w"], []]
 * parseExpression("(h 2) ...", "right").ellipsis; // "alone"
 * ```
 */
export function parseExpression(text: string, side: "left" | "right"): Expression {
  checkDots(text);
  const groups: (string[] | typeof ELLIPSIS)[] = [];
  const identifiers = new Set<string>();
  const anonymous = new Map<string, number>();
  let ellipsis: Expression["ellipsis"] = "none";
  let open: string[] | null = null;

  const addAxis = (token: string): void => {
    let key = token;
    if (token === "...") {
      key = ELLIPSIS;
      ellipsis = open ? "grouped" : "alone";
    } else if (/^[0-9]+$/.test(token)) {
      const size = Number(token);
      // A unit axis is no axis at all: a dimension of size 1 alone, nothing inside parentheses.
      if (size === 1) {
        if (!open) groups.push([]);
        return;
      }
      if (size === 0) throw new PatternError("Anonymous axis should have positive length, not 0");
      key = `${size}-axis#${side}${anonymous.size}`;
      anonymous.set(key, size);
    } else {
      const problem = nameProblem(token);
      if (problem) throw new PatternError(`Invalid axis identifier: ${token} (${problem})`);
    }
    if (identifiers.has(key)) {
      throw new PatternError(`Indexing expression contains duplicate dimension "${token}"`);
    }
    identifiers.add(key);
    if (open) open.push(key);
    else groups.push(key === ELLIPSIS ? ELLIPSIS : [key]);
  };

  for (const [token] of text.matchAll(/[\p{L}\p{N}_.]+|\S/gu)) {
    if (token === "(") {
      if (open) {
        throw new PatternError(
          "Axis composition is one-level (brackets inside brackets not allowed)",
        );
      }
      open = [];
    } else if (token === ")") {
      if (!open) throw new PatternError("Brackets are not balanced");
      groups.push(open);
      open = null;
    } else if (/^[\p{L}\p{N}_.]+$/u.test(token)) {
      addAxis(token);
    } else {
      throw new PatternError(`Unknown character '${token}'`);
    }
  }
  if (open) throw new PatternError(`Imbalanced parentheses in expression: "${text.trim()}"`);
  return { groups, identifiers, anonymous, ellipsis };
}

/**
 * Axis keys as an error message shows them: `{h, w}`, with anonymous axes as `2-axis` and the
 * ellipsis (or any dimension it stands for) as `...`.
 *
 * @example
 * ```ts
 * import { formatAxes } from "./einops_pattern.ts";
 * formatAxes(["h", "3-axis#right0"]); // "{h, 3-axis}"
 * ```
 */
export function formatAxes(keys: Iterable<string>): string {
  return `{${[...keys].map(displayAxis).join(", ")}}`;
}

/**
 * One axis key as the user wrote it (see `formatAxes`).
 *
 * @example
 * ```ts
 * import { displayAxis } from "./einops_pattern.ts";
 * displayAxis("2-axis#left0"); // "2-axis"
 * ```
 */
export function displayAxis(key: string): string {
  return key.startsWith(ELLIPSIS) ? "..." : key.replace(/#.*$/, "");
}

/**
 * Why `name` cannot name an axis, or `undefined` if it can. The underscore rule and its wording
 * are einops' (`ParsedExpression.check_axis_name_return_reason`, which doubles the "should").
 */
function nameProblem(name: string): string | undefined {
  if (!NAME.test(name)) {
    return "names are letters, digits and underscores, not starting with a digit";
  }
  if (name.startsWith("_") || name.endsWith("_")) {
    return "axis name should not start or end with underscore";
  }
  return undefined;
}

/** Dots may only form one `...` per side (checked on the raw text, as einops does). */
function checkDots(text: string): void {
  if (!text.includes(".")) return;
  if (!text.includes("...")) {
    throw new PatternError("Expression may contain dots only inside ellipsis (...)");
  }
  if (text.split("...").length !== 2 || text.split(".").length !== 4) {
    throw new PatternError(
      "Expression may contain dots only inside ellipsis (...); only one ellipsis for tensor",
    );
  }
}
