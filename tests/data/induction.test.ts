// The induction task: a row worked by hand, every row of a pool against the encoding's rules
// (BOS, a repeat of length L in [⌈seq_len/2⌉, seq_len], padding, next-token targets), the split,
// seeding, and one-line refusals naming the flag.
import * as assert from "node:assert/strict";
import {
  buildTask,
  DEFAULT_TASKS,
  IGNORE,
  type InductionOptions,
  inductionTask,
  repeatedRow,
  scoredCounts,
} from "../../engine/data/mod.ts";

const SMALL: InductionOptions = {
  n_tokens: 4,
  seq_len: 3,
  n_seqs: 10,
  frac_train: 0.8,
  data_seed: 0,
};

Deno.test("repeatedRow by hand: <bos> 3 1 3 3 1 3 <pad>, <bos> 2 0 2 0 <pad> <pad> <pad>", () => {
  // n_tokens 4: <bos> is 4, <pad> 5. A segment of 3 in a context of 8.
  const full = repeatedRow(Int32Array.of(3, 1, 3), 4, 8);
  assert.deepEqual([...full.tokens], [4, 3, 1, 3, 3, 1, 3, 5]);
  // Position t predicts token t + 1; the last real token (position 6) and the padding are not
  // scored.
  assert.deepEqual([...full.targets], [3, 1, 3, 3, 1, 3, IGNORE, IGNORE]);
  const short = repeatedRow(Int32Array.of(2, 0), 4, 8);
  assert.deepEqual([...short.tokens], [4, 2, 0, 2, 0, 5, 5, 5]);
  assert.deepEqual([...short.targets], [2, 0, 2, 0, IGNORE, IGNORE, IGNORE, IGNORE]);
});

Deno.test("inductionTask's vocabulary, context and split", () => {
  const t = inductionTask(SMALL);
  assert.equal(t.task, "induction");
  assert.deepEqual(t.vocab, {
    d_vocab: 6,
    d_vocab_out: 4,
    labels: ["0", "1", "2", "3", "<bos>", "<pad>"],
  });
  assert.equal(t.n_ctx, 7); // 1 + 2 · 3
  assert.equal(t.tokens.length, 70);
  assert.equal(t.runName, "induction_4_3");
  assert.deepEqual(t.split(), { train: [0, 1, 2, 3, 4, 5, 6, 7], test: [8, 9] });
  assert.deepEqual(buildTask({ task: "induction", ...SMALL }).tokens, t.tokens);
});

Deno.test("every row of a pool follows the encoding, and L covers [⌈seq_len/2⌉, seq_len]", () => {
  const opts = { ...SMALL, n_tokens: 7, seq_len: 9, n_seqs: 400 };
  const t = inductionTask(opts);
  const T = t.n_ctx; // 19
  const [bos, pad] = [7, 8];
  const lengths = new Map<number, number>();
  const counts = new Array(7).fill(0);
  const scored = scoredCounts(t.targets, T);
  for (let n = 0; n < opts.n_seqs; n++) {
    const row = [...t.tokens.subarray(n * T, (n + 1) * T)];
    const targets = [...t.targets.subarray(n * T, (n + 1) * T)];
    assert.equal(row[0], bos);
    const end = row.indexOf(pad) === -1 ? T : row.indexOf(pad); // 1 + 2L
    const L = (end - 1) / 2;
    assert.ok(Number.isInteger(L) && L >= 5 && L <= 9, `row ${n}: L ${L}`);
    lengths.set(L, (lengths.get(L) ?? 0) + 1);
    const first = row.slice(1, 1 + L);
    assert.deepEqual(row.slice(1 + L, 1 + 2 * L), first, `row ${n} repeats`);
    assert.ok(first.every((x) => x >= 0 && x < 7));
    assert.ok(row.slice(end).every((x) => x === pad));
    for (let i = 0; i < T; i++) {
      assert.equal(targets[i], i < 2 * L ? row[i + 1] : IGNORE, `row ${n} target ${i}`);
    }
    assert.equal(scored[n], 2 * L);
    for (const x of first) counts[x]++;
  }
  // L uniform on 5..9: about 80 rows each.
  for (let L = 5; L <= 9; L++) assert.ok(lengths.get(L)! > 50, `L ${L}: ${lengths.get(L)}`);
  // About 400 · 7 / 7 = 400 draws of each token (σ ≈ 19): uniform within ±25%.
  const mean = counts.reduce((a, b) => a + b) / 7;
  assert.ok(counts.every((c) => Math.abs(c - mean) < 0.25 * mean), `${counts}`);
});

Deno.test("the data seed: the same pool from the same seed, another from another", () => {
  assert.deepEqual(inductionTask(SMALL).tokens, inductionTask(SMALL).tokens);
  assert.notDeepEqual(
    inductionTask(SMALL).tokens,
    inductionTask({ ...SMALL, data_seed: 1 }).tokens,
  );
});

Deno.test("the defaults build, and bad options are one line naming the flag", () => {
  const d = buildTask(DEFAULT_TASKS.induction);
  assert.equal(d.n_ctx, 1 + 2 * DEFAULT_TASKS.induction.seq_len);
  const cases: [Partial<InductionOptions>, RegExp][] = [
    [{ n_tokens: 1 }, /^--n-tokens 1: must be an integer from 2 to/],
    [{ seq_len: 0 }, /^--seq-len 0: must be an integer from 1 to 511$/],
    [{ seq_len: 512 }, /^--seq-len 512: must be an integer from 1 to 511$/],
    [{ n_seqs: 1.5 }, /^--n-seqs 1.5: must be an integer from 2 to/],
    [{ n_seqs: 900000, seq_len: 100 }, /^--n-seqs 900000: .* exceed the pool's 16777216 tokens$/],
    [{ frac_train: 1 }, /^--frac-train 1: must be strictly between 0 and 1$/],
    [{ frac_train: 0.05 }, /^--frac-train 0.05: leaves 0 of --n-seqs 10 to train/],
    [{ data_seed: 0.5 }, /^--data-seed 0.5: must be a safe integer$/],
  ];
  for (const [bad, message] of cases) {
    assert.throws(() => inductionTask({ ...SMALL, ...bad }), (e: Error) => {
      assert.ok(e instanceof RangeError);
      assert.doesNotMatch(e.message, /\n/);
      assert.match(e.message, message);
      return true;
    });
  }
});
