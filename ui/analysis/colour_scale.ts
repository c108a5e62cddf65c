/**
 * The colour scales every heatmap of the analysis views shares, and what their legends show:
 * sequential (viridis; linear or log, for losses spanning decades), diverging (blue, white at 0,
 * red; symmetric about 0) and categorical (Tableau 10, for splits and groups). Pure, so tests
 * import it.
 *
 * @module
 */

/** A colour as red, green, blue in 0..255. */
export type Rgb = readonly [number, number, number];

/** Low to high, dark to yellow (viridis), over `min..max`, or over their log10 with `log`. */
export interface SequentialScale {
  kind: "sequential";
  /** The quantity's name, as the legend shows it. */
  label: string;
  min: number;
  max: number;
  log: boolean;
}

/** Blue below 0, white at 0, red above, over `-max..max`. */
export interface DivergingScale {
  kind: "diverging";
  label: string;
  max: number;
}

/** One colour per category index; -1 grey. */
export interface CategoricalScale {
  kind: "categorical";
  label: string;
  names: string[];
  /** How the legend names -1 (left out when not given). */
  none?: string;
}

/** How values become colours, and the quantity's name the legend shows. */
export type ColourScale = SequentialScale | DivergingScale | CategoricalScale;

// viridis at 0, 1/8, ..., 1 (matplotlib's table, rounded): dark is low, yellow high.
const VIRIDIS: Rgb[] = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];
// ColorBrewer RdBu ends and a near-white middle: blue negative, red positive.
const DIVERGING: Rgb[] = [[33, 102, 172], [247, 247, 247], [178, 24, 43]];
// Tableau 10, as the curves use.
const CATEGORICAL: Rgb[] = [
  [31, 119, 180],
  [255, 127, 14],
  [44, 160, 44],
  [214, 39, 40],
  [148, 103, 189],
  [140, 86, 75],
  [227, 119, 194],
  [127, 127, 127],
  [188, 189, 34],
  [23, 190, 207],
];
/** The colour of a missing value (NaN, or a category of -1: in no split). */
export const NO_DATA: Rgb = [220, 220, 220];

function finite(values: ArrayLike<number>): number[] {
  return Array.from(values).filter((v) => Number.isFinite(v));
}

/**
 * A sequential scale over the values' range, or over `min`..`max` when given (attention is 0..1).
 * With `log`, colours follow log10 of the value and the range is that of the positive values.
 *
 * @example
 * ```ts
 * import { sequentialScale } from "./colour_scale.ts";
 * sequentialScale("loss", [0.01, 1, 100], { log: true }); // { kind: "sequential", label: "loss", min: 0.01, max: 100, log: true }
 * ```
 */
export function sequentialScale(
  label: string,
  values: ArrayLike<number>,
  options: { log?: boolean; min?: number; max?: number } = {},
): SequentialScale {
  const log = options.log ?? false;
  const seen = finite(values).filter((v) => !log || v > 0);
  const min = options.min ?? (seen.length === 0 ? 0 : Math.min(...seen));
  const max = options.max ?? (seen.length === 0 ? 1 : Math.max(...seen));
  return { kind: "sequential", label, min, max, log };
}

/**
 * A diverging scale centred at 0, symmetric: from `-max` to `max`, `max` the largest |value| and at
 * least `atLeast` (patching's metric keeps ±1, so 1 = clean is always full red).
 *
 * @example
 * ```ts
 * import { divergingScale } from "./colour_scale.ts";
 * divergingScale("metric", [-0.2, 0.5], { atLeast: 1 }).max; // 1
 * divergingScale("dla", [-3, 2]).max; // 3
 * ```
 */
export function divergingScale(
  label: string,
  values: ArrayLike<number>,
  options: { atLeast?: number } = {},
): DivergingScale {
  const max = Math.max(options.atLeast ?? 0, ...finite(values).map(Math.abs));
  return { kind: "diverging", label, max: max > 0 ? max : 1 };
}

/**
 * A categorical scale: value `i` is `names[i]`'s colour; -1 is grey, named in the legend by `none`
 * when given (values that are in no category).
 *
 * @example
 * ```ts
 * import { categoricalScale, colourAt } from "./colour_scale.ts";
 * colourAt(categoricalScale("split", ["train", "test"], "in no split"), 0); // [31, 119, 180]
 * ```
 */
export function categoricalScale(
  label: string,
  names: string[],
  none?: string,
): CategoricalScale {
  return none === undefined
    ? { kind: "categorical", label, names }
    : { kind: "categorical", label, names, none };
}

/** Linear interpolation along evenly spaced stops, `t` clamped to 0..1. */
function along(stops: readonly Rgb[], t: number): Rgb {
  const x = Math.min(1, Math.max(0, t)) * (stops.length - 1);
  const i = Math.min(Math.floor(x), stops.length - 2);
  const f = x - i;
  const a = stops[i]!;
  const b = stops[i + 1]!;
  return [0, 1, 2].map((c) => Math.round(a[c]! + f * (b[c]! - a[c]!))) as unknown as Rgb;
}

/**
 * The colour of `value` on `scale`; values beyond the range take the end colours, NaN is `NO_DATA`.
 *
 * @example
 * ```ts
 * import { colourAt, divergingScale } from "./colour_scale.ts";
 * const s = divergingScale("metric", [1]);
 * colourAt(s, 0); // [247, 247, 247]
 * colourAt(s, 1); // [178, 24, 43]
 * ```
 */
export function colourAt(scale: ColourScale, value: number): Rgb {
  if (!Number.isFinite(value)) return NO_DATA;
  if (scale.kind === "categorical") {
    return value < 0 ? NO_DATA : CATEGORICAL[Math.round(value) % CATEGORICAL.length]!;
  }
  if (scale.kind === "diverging") return along(DIVERGING, (value / scale.max + 1) / 2);
  const f = scale.log ? Math.log10 : (v: number) => v;
  const lo = f(scale.min);
  const hi = f(scale.max);
  const v = scale.log ? f(Math.max(value, scale.min)) : value;
  return along(VIRIDIS, hi > lo ? (v - lo) / (hi - lo) : 0.5);
}

/**
 * CSS for a colour.
 *
 * @example
 * ```ts
 * import { cssColour } from "./colour_scale.ts";
 * cssColour([31, 119, 180]); // "rgb(31, 119, 180)"
 * ```
 */
export function cssColour(rgb: Rgb): string {
  return `rgb(${rgb[0]}, ${rgb[1]}, ${rgb[2]})`;
}

/**
 * The legend's gradient, left (low) to right (high), for a sequential or diverging scale.
 *
 * @example
 * ```ts
 * import { divergingScale, gradientCss } from "./colour_scale.ts";
 * gradientCss(divergingScale("m", [1]));
 * // "linear-gradient(to right, rgb(33, 102, 172), rgb(247, 247, 247), rgb(178, 24, 43))"
 * ```
 */
export function gradientCss(scale: ColourScale): string {
  const stops = scale.kind === "diverging" ? DIVERGING : VIRIDIS;
  return `linear-gradient(to right, ${stops.map(cssColour).join(", ")})`;
}

/**
 * The numbers a legend writes under its gradient: low end, the middle (0 for a diverging scale),
 * high end. None for a categorical scale, whose legend lists its names.
 *
 * @example
 * ```ts
 * import { legendTicks, sequentialScale } from "./colour_scale.ts";
 * legendTicks(sequentialScale("loss", [0.01, 100], { log: true })); // [0.01, 1, 100]
 * ```
 */
export function legendTicks(scale: ColourScale): number[] {
  if (scale.kind === "categorical") return [];
  if (scale.kind === "diverging") return [-scale.max, 0, scale.max];
  const mid = scale.log
    ? Math.sqrt(scale.min * scale.max) // the middle of a log axis: the geometric mean
    : (scale.min + scale.max) / 2;
  return [scale.min, mid, scale.max];
}
