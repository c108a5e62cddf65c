// The strings task against hand-worked rows (ids and targets worked on paper in the comments), an
// independent membership check for `(ab)*c` (pairs "ab" then a final "c", read by hand rather
// than by RegExp), and the mix and split the module documents.
import * as assert from "node:assert/strict";
import {
  IGNORE,
  stringAnswer,
  type StringsOptions,
  stringsTask,
  type TaskData,
} from "../../engine/data/mod.ts";

const BASE: StringsOptions = {
  op: "reverse",
  alphabet: "abc",
  max_len: 3,
  n_examples: 20,
  regex: "(ab)*c",
  frac_train: 0.8,
  data_seed: 0,
};

/** Example n as its string, its answer's labels (read from the targets) and its row's labels. */
function decoded(t: TaskData, n: number) {
  const T = t.n_ctx;
  const row = Array.from(t.tokens.subarray(n * T, (n + 1) * T), (i) => t.vocab.labels[i]!);
  const targets = t.targets.subarray(n * T, (n + 1) * T);
  const sep = row.indexOf("<sep>");
  const scored = [...targets.keys()].filter((i) => targets[i] !== IGNORE);
  // Scored from <sep> on, consecutively, each target the next token of the row.
  assert.equal(scored[0], sep);
  scored.forEach((i, k) => {
    assert.equal(i, sep + k);
    assert.equal(targets[i], t.tokens[n * T + i + 1]);
  });
  const answer = scored.map((i) => t.vocab.labels[targets[i]!]!);
  assert.ok(row.slice(sep + 1 + answer.length).every((l) => l === "<pad>"), row.join(""));
  return { s: row.slice(1, sep).join(""), answer, row };
}

/** `(ab)*c` by hand: a final "c" after whole pairs "ab". */
function abThenC(s: string): boolean {
  if (!s.endsWith("c") || (s.length - 1) % 2 !== 0) return false;
  for (let i = 0; i + 1 < s.length; i += 2) if (s.slice(i, i + 2) !== "ab") return false;
  return true;
}

Deno.test("strings: answers of hand-worked strings", () => {
  assert.deepEqual(stringAnswer("copy", "cab"), ["c", "a", "b", "<end>"]);
  assert.deepEqual(stringAnswer("reverse", "cab"), ["b", "a", "c", "<end>"]);
  assert.deepEqual(stringAnswer("sort", "cabca"), ["a", "a", "b", "c", "c", "<end>"]);
  assert.deepEqual(stringAnswer("regex", "ababc", /^(?:(ab)*c)$/), ["<yes>"]);
  assert.deepEqual(stringAnswer("regex", "abac", /^(?:(ab)*c)$/), ["<no>"]);
});

Deno.test("strings: the encoding of reverse over abc, and every row's answer", () => {
  const t = stringsTask(BASE);
  // ids: a 0, b 1, c 2, <end> 3, <no> 4, <yes> 5, <bos> 6, <sep> 7, <pad> 8.
  assert.deepEqual(t.vocab.labels, [
    "a",
    "b",
    "c",
    "<end>",
    "<no>",
    "<yes>",
    "<bos>",
    "<sep>",
    "<pad>",
  ]);
  assert.deepEqual([t.vocab.d_vocab, t.vocab.d_vocab_out, t.n_ctx], [9, 6, 9]);
  const rows = Array.from({ length: 20 }, (_, n) => decoded(t, n));
  for (const { s, answer } of rows) {
    assert.deepEqual(answer, [...[...s].reverse(), "<end>"], s);
  }
  // "ab" (if drawn) is [<bos>, a, b, <sep>, b, a, <end>, <pad>, <pad>] with targets b a <end>
  // at positions 3, 4, 5: [6, 0, 1, 7, 1, 0, 3, 8, 8] and [-1, -1, -1, 1, 0, 3, -1, -1, -1].
  const n = rows.findIndex((r) => r.s === "ab");
  assert.ok(n >= 0, "seed 0 draws 'ab' among its 20 strings");
  assert.deepEqual([...t.tokens.subarray(9 * n, 9 * n + 9)], [6, 0, 1, 7, 1, 0, 3, 8, 8]);
  assert.deepEqual([...t.targets.subarray(9 * n, 9 * n + 9)], [-1, -1, -1, 1, 0, 3, -1, -1, -1]);
  assert.equal(new Set(rows.map((r) => r.s)).size, 20);
  const { train, test } = t.groups[0]!;
  assert.deepEqual([train.length, test.length], [16, 4]);
  assert.deepEqual([...train, ...test].sort((a, b) => a - b), [...Array(20).keys()]);
  assert.deepEqual(t.split(), { train: [...train], test: [...test] });
  assert.deepEqual(stringsTask(BASE).tokens, t.tokens);
});

Deno.test("strings: sort and copy answer every row", () => {
  for (const op of ["sort", "copy"]) {
    const t = stringsTask({ ...BASE, op, max_len: 6, n_examples: 200 });
    for (let n = 0; n < 200; n++) {
      const { s, answer } = decoded(t, n);
      const want = op === "sort" ? [...s].sort() : [...s];
      assert.deepEqual(answer, [...want, "<end>"], `${op} ${s}`);
    }
  }
});

Deno.test("strings: regex (ab)*c: its 3 members up to length 5, the rest non-members", () => {
  // Up to 5 letters, (ab)*c matches c, abc and ababc only.
  const t = stringsTask({ ...BASE, op: "regex", max_len: 5, n_examples: 6 });
  assert.equal(t.n_ctx, 8); // <bos>, 5 letters, <sep>, the answer
  const rows = Array.from({ length: 6 }, (_, n) => decoded(t, n));
  for (const { s, answer } of rows) assert.deepEqual(answer, [abThenC(s) ? "<yes>" : "<no>"], s);
  assert.deepEqual(rows.filter((r) => r.answer[0] === "<yes>").map((r) => r.s).sort(), [
    "ababc",
    "abc",
    "c",
  ]);
});

Deno.test("strings: the default regex mix is half members, with near misses", () => {
  const t = stringsTask({
    ...BASE,
    op: "regex",
    alphabet: "abcd",
    max_len: 8,
    n_examples: 2000,
    regex: "(a|b)*c(a|b)*",
  });
  const member = (s: string) => /^[ab]*c[ab]*$/.test(s);
  const rows = Array.from({ length: 2000 }, (_, n) => decoded(t, n));
  const yes = rows.filter((r) => r.answer[0] === "<yes>");
  assert.equal(yes.length, 1000);
  for (const { s, answer } of rows) assert.equal(answer[0] === "<yes>", member(s), s);
  // A near miss is one edit (change, insertion, deletion) from a member.
  const edits = (s: string) =>
    [...Array(s.length + 1).keys()].flatMap((i) => [
      s.slice(0, i) + s.slice(i + 1),
      ..."abcd".split("").flatMap((
        c,
      ) => [s.slice(0, i) + c + s.slice(i + 1), s.slice(0, i) + c + s.slice(i)]),
    ]);
  const near = rows.filter((r) => r.answer[0] === "<no>" && edits(r.s).some(member));
  assert.ok(near.length >= 500, `${near.length} near misses of 1000`);
  assert.equal(new Set(rows.map((r) => r.s)).size, 2000);
});

Deno.test("strings: bad options are one-line errors naming the flag", () => {
  const cases: [Partial<StringsOptions>, RegExp][] = [
    [{ op: "rot13" }, /^--op rot13: unknown op for strings \(copy, reverse, sort, regex\)$/],
    [{ alphabet: "aa" }, /^--alphabet aa: must be 2 to 26 distinct letters or digits$/],
    [{ alphabet: "a<" }, /^--alphabet a<: must be/],
    [{ max_len: 0 }, /^--max-len 0: must be an integer from 1 to 510$/],
    [{ n_examples: 3 }, /^--n-examples 3: must be an integer from 4 to/],
    // 3 + 9 + 27 = 39 strings up to 3 letters of abc: 40 distinct cannot be drawn.
    [{ n_examples: 40 }, /^--n-examples 40: found only 39 of 40 distinct strings/],
    [{ op: "regex", regex: "(ab" }, /^--regex \(ab: Invalid regular expression/],
    [
      { op: "regex", n_examples: 8 },
      /^--n-examples 8: half must match the regex, and only 2 strings/,
    ],
    [
      { op: "regex", regex: "[abc]*", n_examples: 4 },
      /^--n-examples 4: half must not match the regex, and only 0/,
    ],
    [
      { op: "regex", alphabet: "abcdefghijklmnopqrstuvwxyz", max_len: 6 },
      /^--max-len 6: regex labels every string up to it/,
    ],
    [{ frac_train: 0 }, /^--frac-train 0: must be strictly between 0 and 1$/],
    [{ data_seed: NaN }, /^--data-seed NaN: must be a safe integer$/],
  ];
  for (const [change, message] of cases) {
    assert.throws(() => stringsTask({ ...BASE, ...change }), (e: Error) => {
      assert.ok(e instanceof RangeError);
      assert.match(e.message, message);
      assert.doesNotMatch(e.message, /\n/);
      return true;
    });
  }
});
