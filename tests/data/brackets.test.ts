// The brackets task against hand-worked strings (each classified on paper in the comments), an
// independent balance check (deleting "()" until nothing changes: a string is balanced iff that
// leaves it empty), and counts: the 5 balanced strings of length 6 (Catalan's C₃) drawn
// uniformly, and the mix of kinds the module documents.
import * as assert from "node:assert/strict";
import {
  BRACKETS_LABELS,
  bracketsKind,
  bracketsTask,
  IGNORE,
  nonNegativeWalk,
  scoredCounts,
} from "../../engine/data/mod.ts";
import { Rng } from "../../engine/tensor/mod.ts";

/** Balanced by another route: strip "()" pairs until none is left. */
function reducesToEmpty(s: string): boolean {
  let t = s;
  for (let prev = ""; prev !== t;) [prev, t] = [t, t.replaceAll("()", "")];
  return t === "";
}

/** Example n's string and its one scored target, read back from its row. */
function decoded(t: ReturnType<typeof bracketsTask>, n: number): { s: string; target: number } {
  const T = t.n_ctx;
  const row = Array.from(t.tokens.subarray(n * T, (n + 1) * T), (i) => t.vocab.labels[i]!);
  const end = row.indexOf("<end>");
  assert.equal(row[0], "<bos>");
  assert.ok(row.slice(end + 1).every((l) => l === "<pad>"), row.join(""));
  const targets = t.targets.subarray(n * T, (n + 1) * T);
  assert.ok(targets.every((y, i) => (y === IGNORE) === (i !== end)));
  return { s: row.slice(1, end).join(""), target: targets[end]! };
}

Deno.test("brackets: the kinds of hand-worked strings", () => {
  // "(())": heights 1 2 1 0, never below, ends at 0. ")(": -1 first. "(((": ends at 3.
  // "())(": heights 1 0 -1 0: equal counts that dip. ")": dips and ends at -1.
  const cases: [string, string][] = [
    ["()", "balanced"],
    ["(())", "balanced"],
    ["()(())", "balanced"],
    [")(", "equal_dips"],
    ["())(", "equal_dips"],
    ["(((", "never_dips"],
    ["(()", "never_dips"],
    [")", "other"],
    ["())", "other"],
  ];
  for (const [s, kind] of cases) assert.equal(bracketsKind(s), kind, s);
});

Deno.test("brackets: the encoding for max_len 4, and every label right", () => {
  const t = bracketsTask({ max_len: 4, n_examples: 6, frac_train: 0.5, data_seed: 0 });
  assert.deepEqual(t.vocab, { d_vocab: 7, d_vocab_out: 2, labels: BRACKETS_LABELS });
  assert.deepEqual(BRACKETS_LABELS.slice(0, 2), ["<unbalanced>", "<balanced>"]);
  assert.equal(t.n_ctx, 6);
  const strings = Array.from({ length: 6 }, (_, n) => decoded(t, n));
  // Length ≤ 4 has exactly three balanced strings, "()", "(())" and "()()": all three are drawn.
  const balanced = strings.filter((e) => e.target === 1).map((e) => e.s).sort();
  assert.deepEqual(balanced, ["(())", "()", "()()"]);
  for (const { s, target } of strings) assert.equal(target, reducesToEmpty(s) ? 1 : 0, s);
  // "()" is the row [<bos>, (, ), <end>, <pad>, <pad>] = [4, 2, 3, 5, 6, 6].
  const n = strings.findIndex((e) => e.s === "()");
  assert.deepEqual([...t.tokens.subarray(6 * n, 6 * n + 6)], [4, 2, 3, 5, 6, 6]);
  assert.deepEqual([...t.targets.subarray(6 * n, 6 * n + 6)], [-1, -1, -1, 1, -1, -1]);
});

Deno.test("brackets: the mix: half balanced, the hard kinds, distinct, split once", () => {
  const t = bracketsTask({ max_len: 20, n_examples: 3000, frac_train: 0.8, data_seed: 3 });
  const strings = Array.from({ length: 3000 }, (_, n) => decoded(t, n));
  const kinds: Record<string, number> = {};
  for (const { s, target } of strings) {
    assert.ok(s.length >= 1 && s.length <= 20);
    assert.equal(target, reducesToEmpty(s) ? 1 : 0, s);
    kinds[bracketsKind(s)] = (kinds[bracketsKind(s)] ?? 0) + 1;
  }
  assert.equal(kinds.balanced, 1500);
  // A third of the unbalanced draws each: equal counts dipping and never dipping (500 each,
  // their own kinds), and random strings, mostly "other" but some of the two hard kinds too.
  assert.ok(kinds.equal_dips! >= 500 && kinds.never_dips! >= 500, JSON.stringify(kinds));
  assert.ok(kinds.other! >= 300, JSON.stringify(kinds));
  assert.equal(new Set(strings.map((e) => e.s)).size, 3000);
  const { train, test } = t.groups[0]!;
  assert.deepEqual([train.length, test.length], [2400, 600]);
  assert.deepEqual([...train, ...test].sort((a, b) => a - b), [...Array(3000).keys()]);
  assert.deepEqual(scoredCounts(t.targets, t.n_ctx).every((c) => c === 1), true);
  assert.deepEqual(t.split(), { train: [...train], test: [...test] });
  // The same seed, the same data.
  const again = bracketsTask({ max_len: 20, n_examples: 3000, frac_train: 0.8, data_seed: 3 });
  assert.deepEqual(again.tokens, t.tokens);
  assert.deepEqual(again.split(), t.split());
});

Deno.test("brackets: balanced walks of length 6 are uniform over Catalan's C₃ = 5", () => {
  const rng = new Rng(1);
  const counts = new Map<string, number>();
  const draws = 5000;
  for (let i = 0; i < draws; i++) {
    const s = nonNegativeWalk(6, (h) => h === 0, rng)!;
    counts.set(s, (counts.get(s) ?? 0) + 1);
  }
  assert.deepEqual([...counts.keys()].sort(), ["((()))", "(()())", "(())()", "()(())", "()()()"]);
  // Each 1000 expected, binomial sd √(5000 · 0.2 · 0.8) ≈ 28: within 5 sd.
  for (const c of counts.values()) assert.ok(Math.abs(c - 1000) < 140, `${c}`);
  // Odd lengths cannot end at 0; ending above 0 from "(" alone: "(" is the only walk of 1.
  assert.equal(nonNegativeWalk(3, (h) => h === 0, rng), undefined);
  assert.equal(nonNegativeWalk(1, (h) => h > 0, rng), "(");
});

Deno.test("brackets: bad options are one-line errors naming the flag", () => {
  const base = { max_len: 8, n_examples: 100, frac_train: 0.8, data_seed: 0 };
  const cases: [Partial<typeof base>, RegExp][] = [
    [{ max_len: 7 }, /^--max-len 7: must be even$/],
    [{ max_len: 0 }, /^--max-len 0: must be an integer from 2 to 510$/],
    [{ n_examples: 2 }, /^--n-examples 2: must be an integer from 4 to/],
    // max_len 4 has 3 balanced strings: 5 cannot be drawn.
    [{ max_len: 4, n_examples: 10 }, /^--n-examples 10 \(balanced strings up to --max-len 4\)/],
    [{ frac_train: 1 }, /^--frac-train 1: must be strictly between 0 and 1$/],
    [{ n_examples: 4, frac_train: 0.1 }, /^--frac-train 0.1: leaves 0 of 4 examples/],
    [{ data_seed: 0.5 }, /^--data-seed 0.5: must be a safe integer$/],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => bracketsTask({ ...base, ...change }), (e: Error) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  }
});
