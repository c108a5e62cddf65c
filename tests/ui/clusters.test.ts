// The clusters view's arithmetic against a report worked out by hand: p = 11 (frequencies 1..5),
// 8 neurons, of which those with fraction > 0.85 form clusters at 2 (three) and 5 (one).
import * as assert from "node:assert/strict";
import { colourAt } from "../../ui/analysis/colour_scale.ts";
import { clusterBars, lossRows } from "../../ui/analysis/clusters.ts";

// neuron:        0     1    2     3    4    5     6    7
// neuron_freq:   2     2    5     2    3    0     2    1
// neuron_frac:  0.9  0.96 0.99  0.87 0.5  0.99  0.2  0.85 (0.85 is not > 0.85)
// clusters: k = 2 → neurons 0, 1, 3: mean (0.9 + 0.96 + 0.87) / 3 = 0.91; k = 5 → neuron 2: 0.99.
const report = {
  embed_fourier_norms: [3, 0.1, 4, 0.2, 0.1, 2], // (11 - 1)/2 + 1 entries
  key_freqs: [2, 5],
  neuron_freq: [2, 2, 5, 2, 3, 0, 2, 1],
  clusters: [
    { freq: 2, size: 3, frac_explained: 0.91 },
    { freq: 5, size: 1, frac_explained: 0.99 },
  ],
};

Deno.test("clusterBars: a bar per frequency 1..(p-1)/2, the cluster's size, its mean in the title", () => {
  const b = clusterBars(report);
  assert.deepEqual(b.labels, ["1", "2", "3", "4", "5"]);
  assert.deepEqual(b.values, [0, 3, 0, 0, 1]);
  assert.deepEqual(b.titles, [
    "k = 1: no cluster",
    "k = 2: 3 neurons, mean 91.0% explained",
    "k = 3: no cluster",
    "k = 4: no cluster",
    "k = 5: 1 neuron, mean 99.0% explained",
  ]);
  assert.deepEqual([...b.highlight], ["2", "5"]);
  assert.equal(b.clustered, 4); // 3 + 1
  assert.equal(b.neurons, 8); // d_mlp
  const none = clusterBars({ ...report, key_freqs: [], clusters: [] });
  assert.deepEqual(none.values, [0, 0, 0, 0, 0]);
  assert.equal(none.clustered, 0);
  assert.equal(none.highlight.size, 0);
});

Deno.test("lossRows: each frequency alone, then all together; one log scale with the train loss", () => {
  const modular = {
    key_freqs: [5], // this step's: 2 is a key frequency of the final step only
    loss_freqs: [2, 5],
    restricted_loss: 0.003,
    excluded_loss: 6.2,
    per_freq: [
      { freq: 2, restricted_loss: 1.7, excluded_loss: 4.1 },
      { freq: 5, restricted_loss: 2.3, excluded_loss: 0.9 },
    ],
  };
  const { rows, scale } = lossRows(modular, 0.002);
  assert.deepEqual(rows, [
    { label: "k = 2", restricted: 1.7, excluded: 4.1, key: false },
    { label: "k = 5", restricted: 2.3, excluded: 0.9, key: true },
    { label: "all 2 together", restricted: 0.003, excluded: 6.2, key: false },
  ]);
  // The train loss is the smallest value, 6.2 the largest: the scale's ends.
  assert.deepEqual([scale.min, scale.max, scale.log], [0.002, 6.2, true]);
  assert.deepEqual(colourAt(scale, 0.002), [68, 1, 84]); // viridis's darkest
  assert.deepEqual(colourAt(scale, 6.2), [253, 231, 37]); // and its yellow
  // Without a train loss, the table's own range.
  const alone = lossRows(modular, undefined).scale;
  assert.deepEqual([alone.min, alone.max], [0.003, 6.2]);
});
