// The heatmaps' colour scales: colours worked out by hand from the stops (viridis, RdBu), the
// ranges the scales take from data, and what the legends write.
import * as assert from "node:assert/strict";
import {
  categoricalScale,
  colourAt,
  cssColour,
  divergingScale,
  gradientCss,
  legendTicks,
  NO_DATA,
  sequentialScale,
} from "../../ui/analysis/colour_scale.ts";

Deno.test("sequential: viridis's stops at their values, halfway between them in between", () => {
  const s = sequentialScale("v", [0, 8]); // 9 stops: value k is stop k
  assert.deepEqual(colourAt(s, 0), [68, 1, 84]);
  assert.deepEqual(colourAt(s, 1), [71, 44, 122]);
  assert.deepEqual(colourAt(s, 8), [253, 231, 37]);
  // (68+71)/2 = 69.5, (1+44)/2 = 22.5, (84+122)/2 = 103, rounded half up
  assert.deepEqual(colourAt(s, 0.5), [70, 23, 103]);
  assert.deepEqual(colourAt(s, -5), colourAt(s, 0)); // beyond the range: the end colours
  assert.deepEqual(colourAt(s, 99), colourAt(s, 8));
  assert.deepEqual(colourAt(s, NaN), NO_DATA);
});

Deno.test("sequential log: the geometric middle is the middle colour; zeros and NaN ignored for the range", () => {
  const s = sequentialScale("loss", [0, 0.01, NaN, 100, 3], { log: true });
  assert.deepEqual([s.min, s.max], [0.01, 100]);
  assert.deepEqual(colourAt(s, 1), [33, 144, 141]); // log10 1 = 0: halfway from -2 to 2
  assert.deepEqual(colourAt(s, 0), colourAt(s, 0.01)); // not positive: the low end
  assert.deepEqual(legendTicks(s), [0.01, 1, 100]);
});

Deno.test("sequential: a fixed range, and an empty or flat one", () => {
  assert.deepEqual(sequentialScale("a", [0.2, 0.3], { min: 0, max: 1 }), {
    kind: "sequential",
    label: "a",
    min: 0,
    max: 1,
    log: false,
  });
  const empty = sequentialScale("e", []);
  assert.deepEqual([empty.min, empty.max], [0, 1]);
  const flat = sequentialScale("f", [2, 2]);
  assert.deepEqual(colourAt(flat, 2), [33, 144, 141]); // one value: the middle colour
  assert.deepEqual(legendTicks(sequentialScale("l", [1, 3])), [1, 2, 3]);
});

Deno.test("diverging: symmetric about 0, at least ±atLeast; white at 0", () => {
  const s = divergingScale("m", [-0.5, 2]);
  assert.equal(s.max, 2);
  assert.deepEqual(colourAt(s, -2), [33, 102, 172]);
  assert.deepEqual(colourAt(s, 0), [247, 247, 247]);
  assert.deepEqual(colourAt(s, 2), [178, 24, 43]);
  // halfway from white to red: (247+178)/2 = 212.5, (247+24)/2 = 135.5, (247+43)/2 = 145
  assert.deepEqual(colourAt(s, 1), [213, 136, 145]);
  assert.equal(divergingScale("p", [0.2, -0.1], { atLeast: 1 }).max, 1);
  assert.equal(divergingScale("z", [0]).max, 1); // all zero: still a range
  assert.deepEqual(legendTicks(s), [-2, 0, 2]);
});

Deno.test("categorical: Tableau 10 by index, grey for -1; the legend lists names", () => {
  const s = categoricalScale("split", ["train", "test"], "in no split");
  assert.deepEqual(colourAt(s, 0), [31, 119, 180]);
  assert.deepEqual(colourAt(s, 1), [255, 127, 14]);
  assert.deepEqual(colourAt(s, -1), NO_DATA);
  assert.deepEqual(colourAt(s, 10), colourAt(s, 0)); // wraps after ten
  assert.deepEqual(legendTicks(s), []);
  assert.equal("none" in categoricalScale("g", ["a"]), false);
});

Deno.test("css: colours and the legend's gradient", () => {
  assert.equal(cssColour([1, 2, 3]), "rgb(1, 2, 3)");
  assert.equal(
    gradientCss(divergingScale("m", [1])),
    "linear-gradient(to right, rgb(33, 102, 172), rgb(247, 247, 247), rgb(178, 24, 43))",
  );
  assert.equal(gradientCss(sequentialScale("v", [0, 1])).split("rgb(").length - 1, 9);
});
