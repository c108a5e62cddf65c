// The out-of-context task against every example of p = 3 written out by hand, against an
// independent Python rebuild of its holdouts (fixtures/make_data.py, with make_random.py's
// generator), and against stated bounds: exact held-out counts for ordered pairs, within p + 1 of
// holdout · p² for unordered ones (a diagonal pair is one example, the others two), and the two
// tables' overlap within 5 standard deviations of an independent draw's.
import * as assert from "node:assert/strict";
import {
  DEFAULT_OOCL,
  exampleSplits,
  IGNORE,
  lastTargets,
  type OoclOptions,
  ooclSpecialTokens,
  ooclTask,
  type TaskData,
} from "../../engine/data/mod.ts";
import { loadFixture } from "../helpers.ts";

interface SplitPair {
  train: number[];
  test: number[];
}
interface DataFixture {
  oocl: {
    op: string;
    p: number;
    holdout1: number;
    holdout2: number;
    seed: number;
    symmetric: boolean;
    table1: SplitPair;
    table2: SplitPair;
  }[];
}

const fx = await loadFixture<DataFixture>("data");

function task(options: Partial<OoclOptions>): TaskData {
  return ooclTask({ ...DEFAULT_OOCL, ...options });
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

/** A table group's held-out examples as table-local indices. */
function heldOut(t: TaskData, name: "table1" | "table2", p: number): Set<number> {
  const g = t.groups.find((g) => g.name === name)!;
  const offset = name === "table1" ? 0 : p * p;
  return new Set([...g.test].map((i) => i - offset));
}

Deno.test("the vocabulary of p = 3: originals, aliases, =, true, false, define", () => {
  const t = task({ p: 3 });
  assert.equal(t.task, "oocl");
  assert.deepEqual(t.vocab, {
    d_vocab: 10,
    d_vocab_out: 10,
    labels: ["0", "1", "2", "x'0", "x'1", "x'2", "=", "true", "false", "define"],
  });
  assert.deepEqual(ooclSpecialTokens(3), { equal: 6, true: 7, false: 8, define: 9 });
  assert.equal(task({ p: 113 }).vocab.d_vocab, 230);
});

Deno.test("every example of p = 3 (ssq), worked by hand", () => {
  // x² + y² mod 3: 0 0 → 0, 0 1 → 1, 0 2 → 4 ≡ 1, 1 0 → 1, 1 1 → 2, 1 2 → 5 ≡ 2, 2 0 → 1,
  // 2 1 → 2, 2 2 → 8 ≡ 2. true = 7, = is 6, define = 9; aliases add 3.
  const rows = [
    // table 1: [true, x, y, =] → z
    [7, 0, 0, 6, 0],
    [7, 0, 1, 6, 1],
    [7, 0, 2, 6, 1],
    [7, 1, 0, 6, 1],
    [7, 1, 1, 6, 2],
    [7, 1, 2, 6, 2],
    [7, 2, 0, 6, 1],
    [7, 2, 1, 6, 2],
    [7, 2, 2, 6, 2],
    // table 2: [true, x', y', =] → z'
    [7, 3, 3, 6, 3],
    [7, 3, 4, 6, 4],
    [7, 3, 5, 6, 4],
    [7, 4, 3, 6, 4],
    [7, 4, 4, 6, 5],
    [7, 4, 5, 6, 5],
    [7, 5, 3, 6, 4],
    [7, 5, 4, 6, 5],
    [7, 5, 5, 6, 5],
    // links: i → i', then i' → i
    [9, 9, 0, 6, 3],
    [9, 9, 1, 6, 4],
    [9, 9, 2, 6, 5],
    [9, 9, 3, 6, 0],
    [9, 9, 4, 6, 1],
    [9, 9, 5, 6, 2],
  ];
  const t = task({ p: 3, holdout1: 0.5, holdout2: 0.5 });
  assert.equal(t.n_ctx, 4);
  assert.deepEqual([...t.tokens], rows.flatMap((r) => r.slice(0, 4)));
  assert.deepEqual([...lastTargets(t)], rows.map((r) => r[4]));
  assert.deepEqual([...t.targets], rows.flatMap((r) => [IGNORE, IGNORE, IGNORE, r[4]]));
});

Deno.test("another op: add for p = 3, a few rows", () => {
  const t = task({ op: "add", p: 3, holdout1: 0.5, holdout2: 0.5 });
  assert.deepEqual([...t.tokens.subarray(4 * 5, 4 * 6)], [7, 1, 2, 6]); // (1, 2)
  assert.equal(lastTargets(t)[5], 0); // 3 ≡ 0
  assert.deepEqual([...t.tokens.subarray(4 * 16, 4 * 17)], [7, 5, 4, 6]); // (2', 1')
  assert.equal(lastTargets(t)[16], 3); // 3 ≡ 0, alias 0' = 3
});

Deno.test("groups: names, weights k1 k2 k3, links all in train", () => {
  const t = task({ p: 5, k1: 0.5, k2: 2, k3: 0 });
  assert.deepEqual(t.groups.map((g) => [g.name, g.weight]), [
    ["table1", 0.5],
    ["table2", 2],
    ["links", 0],
  ]);
  const links = t.groups[2]!;
  assert.deepEqual([...links.train], [50, 51, 52, 53, 54, 55, 56, 57, 58, 59]);
  assert.equal(links.test.length, 0);
});

Deno.test("each table's split is disjoint, covers its pairs, ascending, and holds out round(h · p²)", () => {
  const p = 23;
  const t = task({ p, holdout1: 0.6, holdout2: 0.3 });
  const [table1, table2] = t.groups;
  assert.equal(table1!.test.length, 317); // round(0.6 · 529 = 317.4)
  assert.equal(table2!.test.length, 159); // round(0.3 · 529 = 158.7)
  for (const [g, lo] of [[table1!, 0], [table2!, p * p]] as const) {
    const all = [...g.train, ...g.test].sort((a, b) => a - b);
    assert.deepEqual(all, Array.from({ length: p * p }, (_, i) => lo + i), g.name);
    for (const s of [g.train, g.test]) {
      for (let k = 1; k < s.length; k++) assert.ok(s[k - 1]! < s[k]!, `${g.name} ascending`);
    }
  }
});

Deno.test("ordered holdout splits some pairs from their mirror; symmetric keeps them together", () => {
  const p = 23;
  function mirrorSplit(held: Set<number>): number {
    let n = 0;
    for (const i of held) if (!held.has((i % p) * p + Math.floor(i / p))) n++;
    return n;
  }
  const ordered = task({ p, holdout1: 0.6, holdout2: 0.4 });
  assert.ok(mirrorSplit(heldOut(ordered, "table1", p)) > 0, "the commutativity leak exists");
  const sym = task({ p, holdout1: 0.6, holdout2: 0.4, symmetric_holdout: true });
  for (const [name, h] of [["table1", 0.6], ["table2", 0.4]] as const) {
    const held = heldOut(sym, name, p);
    assert.equal(mirrorSplit(held), 0, `${name}: (y, x) held out with every (x, y)`);
    assert.ok(Math.abs(held.size - h * p * p) <= p + 1, `${name}: ${held.size} vs ${h * p * p}`);
  }
});

Deno.test("the two tables' holdouts are independent draws", () => {
  const p = 23;
  const n = p * p;
  const t = task({ p, holdout1: 0.6, holdout2: 0.6 });
  const a = heldOut(t, "table1", p);
  const b = heldOut(t, "table2", p);
  assert.equal(a.size, 317);
  assert.equal(b.size, 317);
  const overlap = [...a].filter((i) => b.has(i)).length;
  // Hypergeometric: 317 of 529 drawn, 317 marked: mean 317²/529 ≈ 190, sd ≈ 5.5. The same mask
  // twice would give 317; a mask and its complement's shuffle far fewer.
  const mean = (317 * 317) / n;
  const sd = Math.sqrt(317 * (317 / n) * (1 - 317 / n) * ((n - 317) / (n - 1)));
  assert.ok(Math.abs(overlap - mean) < 5 * sd, `overlap ${overlap}, mean ${mean}, sd ${sd}`);
});

Deno.test("the holdouts match the Python rebuild (fixtures/make_data.py)", () => {
  assert.equal(fx.oocl.length, 3);
  for (const c of fx.oocl) {
    const t = ooclTask({
      op: c.op,
      p: c.p,
      holdout1: c.holdout1,
      holdout2: c.holdout2,
      k1: 1,
      k2: 1,
      k3: 1,
      data_seed: c.seed,
      symmetric_holdout: c.symmetric,
    });
    const what = `${c.op} p ${c.p} symmetric ${c.symmetric}`;
    assert.deepEqual(t.split(), {
      table1: c.table1,
      table2: c.table2,
      links: { train: Array.from({ length: 2 * c.p }, (_, i) => 2 * c.p * c.p + i), test: [] },
    }, what);
  }
});

Deno.test("div: y = 0 rows are in no split of either table; answers times y give x", () => {
  const p = 7;
  const t = task({ op: "div", p, holdout1: 0.5, holdout2: 0.5, symmetric_holdout: true });
  for (const [g, offset] of [[t.groups[0]!, 0], [t.groups[1]!, p * p]] as const) {
    const every = [...g.train, ...g.test];
    assert.equal(every.length, p * (p - 1), g.name);
    for (const i of every) {
      const local = i - offset;
      const [x, y] = [Math.floor(local / p), local % p];
      assert.notEqual(y, 0, `${g.name} example ${i}`);
      assert.equal(((lastTargets(t)[i]! - offset / p) * y) % p, x, `${g.name} (${x} / ${y})`);
    }
  }
});

Deno.test("the same seed gives the same holdouts, another seed others", () => {
  const a = task({ p: 11, data_seed: 4 });
  const b = task({ p: 11, data_seed: 4 });
  const c = task({ p: 11, data_seed: 5 });
  assert.deepEqual(a.split(), b.split());
  assert.notDeepEqual(c.groups[0]!.test, a.groups[0]!.test);
  assert.notDeepEqual(c.groups[1]!.test, a.groups[1]!.test);
});

Deno.test("run names print numbers as JavaScript does", () => {
  assert.equal(ooclTask(DEFAULT_OOCL).runName, "oocl_ssq_113_0.6_0.6_1_1_1");
  const t = task({ op: "add", p: 7, holdout1: 0.25, k2: 0.5, k3: 0 });
  assert.equal(t.runName, "oocl_add_7_0.25_0.6_1_0.5_0");
});

Deno.test("every bad option is a one-line RangeError naming the flag", () => {
  assert.equal(
    errorOf(() => task({ op: "pow" })),
    "--op pow: unknown op; known ops: add, sub, mul, div, ssq, x2xyy2, x3xy",
  );
  assert.equal(errorOf(() => task({ p: 1 })), "--p 1: must be an integer from 2 to 4093");
  assert.equal(errorOf(() => task({ op: "div", p: 9 })), "--p 9: op div needs a prime p");
  for (const h of [0, 1, NaN]) {
    assert.equal(
      errorOf(() => task({ holdout1: h })),
      `--holdout1 ${h}: must be strictly between 0 and 1`,
    );
  }
  assert.equal(
    errorOf(() => task({ holdout2: 1.5 })),
    "--holdout2 1.5: must be strictly between 0 and 1",
  );
  assert.equal(errorOf(() => task({ k1: -1 })), "--k1 -1: must be a finite number >= 0");
  assert.equal(
    errorOf(() => task({ k2: Infinity })),
    "--k2 Infinity: must be a finite number >= 0",
  );
  assert.equal(errorOf(() => task({ k3: NaN })), "--k3 NaN: must be a finite number >= 0");
  assert.equal(
    errorOf(() => task({ k1: 0, k2: 0, k3: 0 })),
    "--k1 0 --k2 0 --k3 0: at least one loss weight must be positive",
  );
  assert.equal(errorOf(() => task({ data_seed: 0.5 })), "--data-seed 0.5: must be a safe integer");
  assert.equal(
    errorOf(() => task({ p: 3, holdout1: 0.01 })), // round(0.09) = 0
    "--holdout1 0.01: holds out none of the 9 pairs for p 3",
  );
  assert.equal(
    errorOf(() => task({ p: 3, holdout2: 0.99 })), // round(8.91) = 9
    "--holdout2 0.99: holds out all of the 9 pairs for p 3",
  );
  assert.equal(
    errorOf(() => task({ p: 3, holdout1: 0.05, symmetric_holdout: true })), // round(0.3) of 6
    "--holdout1 0.05: holds out none of the 6 unordered pairs for p 3",
  );
});

Deno.test("exampleSplits: each example's group and split, as the groups list them", () => {
  const p = 5;
  const task = ooclTask({ ...DEFAULT_OOCL, p });
  const { group, split, train, test } = exampleSplits(task);
  assert.equal(group.length, lastTargets(task).length);
  // Table 1 at [0, p²), table 2 at [p², 2p²), the links after: the layout ooclTask documents.
  for (let i = 0; i < group.length; i++) {
    assert.equal(group[i], i < p * p ? 0 : i < 2 * p * p ? 1 : 2, `group of ${i}`);
    const g = task.groups[group[i]!]!;
    assert.equal(split[i], g.train.includes(i) ? 0 : 1, `split of ${i}`);
  }
  assert.equal(split.slice(2 * p * p).every((s) => s === 0), true, "links always train");
  const all = (part: "train" | "test") =>
    task.groups.flatMap((g) => Array.from(g[part])).sort((a, b) => a - b);
  assert.deepEqual(Array.from(train), all("train"));
  assert.deepEqual(Array.from(test), all("test"));
});
