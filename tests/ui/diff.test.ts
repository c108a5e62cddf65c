// The config diff: leaves by dotted path, what differs or exists on one side only. The realistic
// case diffs two configs resolved by the trainer's own resolveConfig.
import * as assert from "node:assert/strict";
import { resolveConfig } from "../../engine/train/presets.ts";
import { diffConfigs, flattenLeaves, formatLeaf } from "../../ui/diff.ts";

Deno.test("flattenLeaves: dotted paths, array items by index, empty containers are leaves", () => {
  const leaves = flattenLeaves({ a: { b: 1, c: [10, { d: null }] }, e: {}, f: [], g: "x" });
  assert.deepEqual([...leaves], [
    ["a.b", 1],
    ["a.c.0", 10],
    ["a.c.1.d", null],
    ["e", {}],
    ["f", []],
    ["g", "x"],
  ]);
});

Deno.test("diffConfigs: smoke against smoke with lr and p changed", () => {
  // p 23 -> 31 changes the vocabulary: d_vocab = p + 1 (the "=" token), d_vocab_out = p.
  const a = resolveConfig("smoke", {}, "0.1.0");
  const b = resolveConfig("smoke", { train: { lr: 3e-3 }, task: { p: 31 } }, "0.1.0");
  assert.deepEqual(diffConfigs(a, b), [
    { path: "model.d_vocab", a: 24, b: 32 },
    { path: "model.d_vocab_out", a: 23, b: 31 },
    { path: "task.p", a: 23, b: 31 },
    { path: "train.lr", a: 1e-2, b: 3e-3 },
  ]);
  assert.deepEqual(diffConfigs(a, structuredClone(a)), []);
});

Deno.test("diffConfigs: one-sided paths, null against absent, types that differ", () => {
  const rows = diffConfigs(
    { x: 1, y: null, z: "1", list: [1, 2], same: { k: true } },
    { x: 1.0, z: 1, list: [1], extra: { k: 0 }, same: { k: true } },
  );
  assert.deepEqual(rows, [
    { path: "extra.k", a: undefined, b: 0 },
    { path: "list.1", a: 2, b: undefined },
    { path: "y", a: null, b: undefined },
    { path: "z", a: "1", b: 1 },
  ]);
  assert.deepEqual(rows.map((r) => [formatLeaf(r.a), formatLeaf(r.b)]), [
    ["—", "0"],
    ["2", "—"],
    ["null", "—"],
    ['"1"', "1"],
  ]);
});
