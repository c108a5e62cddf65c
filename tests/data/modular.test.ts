// The modular task against hand-worked examples (p = 5, each op worked on paper in the comments),
// against numpy's tables and an independent Python rebuild of the splits (fixtures/make_data.py,
// with make_random.py's generator), and against the reference's split size (p = 113, frac 0.3:
// 3,830 train).
import * as assert from "node:assert/strict";
import { Rng } from "../../engine/tensor/mod.ts";
import {
  checkModulus,
  DEFAULT_MODULAR,
  IGNORE,
  isPrime,
  lastTargets,
  MODULAR_OPS,
  type ModularOp,
  modularTask,
  opNeedsPrime,
  opTable,
  scoresLastOnly,
  shuffleSplit,
  type TaskData,
} from "../../engine/data/mod.ts";
import { loadFixture } from "../helpers.ts";

interface DataFixture {
  tables: { op: ModularOp; p: number; table: number[] }[];
  modular: {
    op: string;
    p: number;
    frac_train: number;
    seed: number;
    train: number[];
    test: number[];
  }[];
}

const fx = await loadFixture<DataFixture>("data");

function task(op: string, p: number, frac_train = 0.3, data_seed = 0): TaskData {
  return modularTask({ op, p, frac_train, data_seed });
}

/** The target of the example (x, y) of a p-task. */
function answer(t: TaskData, p: number, x: number, y: number): number {
  return lastTargets(t)[x * p + y]!;
}

/** The message of the error `f` throws, asserting it is a one-line RangeError. */
function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof RangeError, `expected a RangeError, got ${e}`);
    assert.ok(!e.message.includes("\n"), `message spans lines: ${e.message}`);
    return e.message;
  }
  throw new assert.AssertionError({ message: "expected an error, none thrown" });
}

Deno.test("the encoding for p = 5: vocabulary, [x, y, =] rows in table order", () => {
  const t = task("add", 5);
  assert.equal(t.task, "modular");
  assert.deepEqual(t.vocab, {
    d_vocab: 6,
    d_vocab_out: 5,
    labels: ["0", "1", "2", "3", "4", "="],
  });
  assert.equal(t.n_ctx, 3);
  assert.equal(t.tokens.length, 25 * 3);
  // [N, n_ctx]: the answer at "=", the other positions not scored
  assert.equal(t.targets.length, 25 * 3);
  assert.deepEqual([...t.targets.subarray(3 * 7, 3 * 8)], [IGNORE, IGNORE, 3]);
  assert.ok(scoresLastOnly(t.targets, 3));
  assert.deepEqual([...t.tokens.subarray(0, 3)], [0, 0, 5]); // example 0: (0, 0)
  assert.deepEqual([...t.tokens.subarray(3 * 7, 3 * 8)], [1, 2, 5]); // example 7: (1, 2)
  assert.deepEqual([...t.tokens.subarray(3 * 14, 3 * 15)], [2, 4, 5]); // example 14: (2, 4)
  assert.deepEqual([...t.tokens.subarray(3 * 24)], [4, 4, 5]); // example 24: (4, 4)
  assert.equal(lastTargets(t)[7], 3); // 1 + 2
  assert.equal(t.groups.length, 1);
  assert.equal(t.groups[0]!.name, "all");
  assert.equal(t.groups[0]!.weight, 1);
});

Deno.test("each op for p = 5, worked by hand", () => {
  const cases: [string, number, number, number][] = [
    ["add", 3, 4, 2], // 7 mod 5
    ["add", 4, 4, 3], // 8
    ["add", 0, 0, 0],
    ["sub", 1, 3, 3], // -2 ≡ 3
    ["sub", 4, 1, 3],
    ["sub", 0, 4, 1], // -4 ≡ 1
    ["mul", 3, 4, 2], // 12
    ["mul", 2, 3, 1], // 6
    ["mul", 0, 4, 0],
    ["div", 1, 2, 3], // 2⁻¹ = 3 (2·3 = 6 ≡ 1), 1·3
    ["div", 3, 4, 2], // 4⁻¹ = 4 (16 ≡ 1), 3·4 = 12
    ["div", 4, 3, 3], // 3⁻¹ = 2, 4·2 = 8
    ["div", 2, 2, 1],
    ["ssq", 3, 4, 0], // 9 + 16 = 25
    ["ssq", 3, 3, 3], // 18
    ["ssq", 1, 1, 2],
    ["ssq", 2, 1, 0], // 5
    ["x2xyy2", 1, 2, 2], // 1 + 2 + 4 = 7
    ["x2xyy2", 3, 4, 2], // 9 + 12 + 16 = 37
    ["x2xyy2", 4, 0, 1], // 16
    ["x2xyy2", 0, 3, 4], // 9
    ["x3xy", 2, 3, 4], // 8 + 6 = 14
    ["x3xy", 3, 2, 3], // 27 + 6 = 33
    ["x3xy", 4, 1, 3], // 64 + 4 = 68
    ["x3xy", 3, 1, 0], // 27 + 3 = 30
  ];
  for (const [op, x, y, z] of cases) {
    assert.equal(answer(task(op, 5), 5, x, y), z, `${op}(${x}, ${y}) mod 5`);
  }
});

Deno.test("div: every answer times y gives x back, and y = 0 is in no split", () => {
  for (const p of [5, 11, 113]) {
    const t = task("div", p, 0.5);
    for (let x = 0; x < p; x++) {
      for (let y = 1; y < p; y++) {
        assert.equal((answer(t, p, x, y) * y) % p, x, `(${x} / ${y}) · ${y} mod ${p}`);
      }
    }
    const { train, test } = t.groups[0]!;
    assert.equal(train.length + test.length, p * (p - 1));
    for (const i of [...train, ...test]) assert.notEqual(i % p, 0, `example ${i} has y = 0`);
    // The y = 0 rows are still in the table, with the placeholder answer 0.
    assert.deepEqual([...t.tokens.subarray(3 * p, 3 * p + 3)], [1, 0, p]);
    assert.equal(lastTargets(t)[p], 0);
  }
});

Deno.test("opTable matches numpy's tables for p = 13 and p = 12", () => {
  assert.equal(fx.tables.length, 13);
  for (const { op, p, table } of fx.tables) {
    assert.deepEqual([...opTable(op, p)], table, `${op} mod ${p}`);
    const t = task(op, p);
    const expected = table.map((z) => Math.max(z, 0));
    assert.deepEqual([...lastTargets(t)], expected, `${op} mod ${p} targets`);
  }
});

Deno.test("the split: 3,830 of 12,769 train for p = 113, frac 0.3; disjoint, covering, sorted", () => {
  const { train, test } = modularTask(DEFAULT_MODULAR).groups[0]!;
  assert.equal(train.length, 3830);
  assert.equal(test.length, 12769 - 3830);
  const seen = new Uint8Array(12769);
  for (const i of [...train, ...test]) seen[i]! += 1;
  assert.ok(seen.every((c) => c === 1), "every example in exactly one split");
  for (const s of [train, test]) {
    for (let k = 1; k < s.length; k++) assert.ok(s[k - 1]! < s[k]!, "ascending");
  }
});

Deno.test("the splits match the Python rebuild (fixtures/make_data.py)", () => {
  for (const c of fx.modular) {
    const { train, test } = task(c.op, c.p, c.frac_train, c.seed).groups[0]!;
    assert.deepEqual([...train], c.train, `${c.op} p ${c.p} train`);
    assert.deepEqual([...test], c.test, `${c.op} p ${c.p} test`);
  }
});

Deno.test("the same seed gives the same split, another seed another", () => {
  const a = task("add", 31, 0.3, 7).groups[0]!;
  const b = task("add", 31, 0.3, 7).groups[0]!;
  const c = task("add", 31, 0.3, 8).groups[0]!;
  assert.deepEqual(a.train, b.train);
  assert.deepEqual(a.test, b.test);
  assert.equal(c.train.length, a.train.length);
  assert.notDeepEqual(c.train, a.train);
});

Deno.test("split() holds the group's indices as plain arrays", () => {
  const t = task("mul", 7, 0.5, 2);
  const g = t.groups[0]!;
  const s = t.split();
  assert.deepEqual(s, { train: Array.from(g.train), test: Array.from(g.test) });
  assert.deepEqual(JSON.parse(JSON.stringify(s)), s);
});

Deno.test("run names, ops and primes", () => {
  assert.equal(task("add", 113).runName, "modular_add_113");
  assert.equal(task("div", 7).runName, "modular_div_7");
  assert.deepEqual([...MODULAR_OPS], ["add", "sub", "mul", "div", "ssq", "x2xyy2", "x3xy"]);
  assert.deepEqual(MODULAR_OPS.filter(opNeedsPrime), ["div"]);
  const primes = Array.from({ length: 30 }, (_, n) => n).filter(isPrime);
  assert.deepEqual(primes, [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]);
  assert.equal(isPrime(4093), true);
  assert.equal(isPrime(4087), false); // 61 · 67
  assert.equal(checkModulus("ssq", 12), "ssq");
});

Deno.test("every bad option is a one-line RangeError naming the flag", () => {
  const known = "add, sub, mul, div, ssq, x2xyy2, x3xy";
  assert.equal(errorOf(() => task("pow", 5)), `--op pow: unknown op; known ops: ${known}`);
  assert.equal(errorOf(() => task("add", 1)), "--p 1: must be an integer from 2 to 4093");
  assert.equal(errorOf(() => task("add", 2.5)), "--p 2.5: must be an integer from 2 to 4093");
  assert.equal(errorOf(() => task("add", 4094)), "--p 4094: must be an integer from 2 to 4093");
  assert.equal(errorOf(() => task("add", NaN)), "--p NaN: must be an integer from 2 to 4093");
  assert.equal(errorOf(() => task("div", 12)), "--p 12: op div needs a prime p");
  for (const f of [0, 1, -0.1, NaN]) {
    assert.equal(
      errorOf(() => task("add", 5, f)),
      `--frac-train ${f}: must be strictly between 0 and 1`,
    );
  }
  assert.equal(
    errorOf(() => task("add", 3, 0.05)), // ⌊0.05 · 9⌋ = 0
    "--frac-train 0.05: leaves no training examples of the 9 for p 3",
  );
  assert.equal(errorOf(() => task("add", 5, 0.3, 1.5)), "--data-seed 1.5: must be a safe integer");
  // The smallest cases still work: p = 2 (div: the two y = 1 pairs, one each side).
  const tiny = task("div", 2, 0.5).groups[0]!;
  assert.equal(tiny.train.length + tiny.test.length, 2);
});

Deno.test("shuffleSplit keeps a unit's examples together and skips -1", () => {
  // 6 units of 2 examples each (i and i + 6), example 12 excluded.
  const unitOf = Int32Array.from({ length: 13 }, (_, i) => (i === 12 ? -1 : i % 6));
  const { chosen, rest } = shuffleSplit(unitOf, 6, 2, new Rng(5));
  assert.equal(chosen.length, 4);
  assert.equal(rest.length, 8);
  for (const i of chosen) assert.ok(chosen.includes((i + 6) % 12), `${i}'s partner is chosen`);
  assert.ok(![...chosen, ...rest].includes(12));
  assert.throws(() => shuffleSplit(unitOf, 6, 7, new Rng(5)), RangeError);
});
