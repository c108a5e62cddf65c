// The text task against a hand-worked file (its windows worked on paper in the comments), against
// the committed corpus' own account of itself (fixtures/corpus.json, written by
// fixtures/make_corpus.py: its characters, counted by Python), and its errors; a saved run's
// config reads without its file, since the vocabulary is in it.
import * as assert from "node:assert/strict";
import { join } from "node:path";
import {
  DEFAULT_TASKS,
  IGNORE,
  taskShape,
  type TextOptions,
  textTask,
  textVocab,
} from "../../engine/data/mod.ts";
import { checkRunConfig } from "../../engine/runs/run_schema.ts";
import { resolveConfig } from "../../engine/train/presets.ts";
import { launchFlags } from "../../engine/server/launch_args.ts";
import { withTempDir } from "../helpers.ts";

const CORPUS = JSON.parse(await Deno.readTextFile("fixtures/corpus.json")) as {
  chars: number;
  vocab: string;
  unigram_entropy_nats: number;
};

/** Window n's tokens and targets as text. */
function windowText(t: ReturnType<typeof textTask>, n: number): [string, string] {
  const T = t.n_ctx;
  const text = (a: Int32Array) =>
    Array.from(a.subarray(n * T, (n + 1) * T), (i) => t.vocab.labels[i]).join("");
  return [text(t.tokens), text(t.targets)];
}

Deno.test("text: the vocabulary is the characters in code-point order", () => {
  assert.equal(textVocab("abba\n"), "\nab");
  // é (U+00E9) after z; 🙂 (U+1F642, two UTF-16 units) is one character, last.
  assert.equal(textVocab("zé🙂a"), "azé🙂");
});

Deno.test("text: the windows of a hand-worked file, split by position", async () => {
  await withTempDir(async (dir) => {
    const data = join(dir, "abc.txt");
    await Deno.writeTextFile(data, "abcabcabca");
    // 10 characters, 60% train: the first 6 ("abcabc") give windows at 0 and 2 of 3 characters
    // ("abc", "cab"), the last 4 ("abca") one at 6 ("abc").
    const t = textTask({ data, vocab: "", n_ctx: 2, stride: 2, frac_train: 0.6 });
    assert.deepEqual(t.vocab, { d_vocab: 3, d_vocab_out: 3, labels: ["a", "b", "c"] });
    assert.equal(t.n_ctx, 2);
    assert.deepEqual([...t.tokens], [0, 1, 2, 0, 0, 1]);
    assert.deepEqual([...t.targets], [1, 2, 0, 1, 1, 2]);
    assert.deepEqual(t.split(), { train: [0, 1], test: [2] });
    assert.equal(t.runName, "text_abc");
    // A vocabulary given is used as it is (ids by its order), and must hold every character.
    const given = textTask({ data, vocab: "cba", n_ctx: 2, stride: 2, frac_train: 0.6 });
    assert.deepEqual([...given.tokens.subarray(0, 2)], [2, 1]);
    assert.throws(
      () => textTask({ data, vocab: "ab", n_ctx: 2, stride: 2, frac_train: 0.6 }),
      /^RangeError: --data .*abc.txt: character "c" is not in the run's vocab$/,
    );
  });
});

Deno.test("text: the committed corpus, as fixtures/make_corpus.py counted it", async () => {
  const text = await Deno.readTextFile("fixtures/corpus.txt");
  assert.equal(text.length, CORPUS.chars);
  const t = textTask({ ...DEFAULT_TASKS.text });
  assert.equal(t.vocab.labels.join(""), CORPUS.vocab);
  const cut = Math.floor(0.9 * CORPUS.chars);
  const { train, test } = t.groups[0]!;
  // Windows of 129 characters every 128: starts 0, 128, … ending by the cut, then from the cut.
  assert.equal(train.length, Math.floor((cut - 129) / 128) + 1);
  assert.equal(test.length, Math.floor((CORPUS.chars - cut - 129) / 128) + 1);
  for (
    const [n, start] of [[0, 0], [train.length - 1, 128 * (train.length - 1)], [train.length, cut]]
  ) {
    const [tokens, targets] = windowText(t, n!);
    assert.equal(tokens, text.slice(start, start! + 128));
    assert.equal(targets, text.slice(start! + 1, start! + 129));
  }
  assert.ok(t.targets.every((y) => y !== IGNORE));
  // The preset saves the vocabulary in the run's config.
  const config = resolveConfig("tinygpt", {}, "test");
  assert.equal(config.task.task === "text" && config.task.vocab, CORPUS.vocab);
  assert.equal(config.model.d_vocab, CORPUS.vocab.length);
  // The server's launch passes the file and lets the child read the vocabulary again.
  const { flags } = launchFlags({ preset: "tinygpt", overrides: {} }, "test");
  assert.ok(flags.includes("--data=fixtures/corpus.txt") && flags.includes("--n-ctx=128"));
  assert.ok(!flags.some((f) => f.startsWith("--vocab")));
});

Deno.test("text: a saved run's config reads without its file", () => {
  const config = resolveConfig("tinygpt", {}, "test");
  const moved = { ...config, task: { ...config.task, data: "/nowhere/corpus.txt" } };
  assert.equal(checkRunConfig(moved, "runs/x/config.json").model.d_vocab, CORPUS.vocab.length);
  assert.equal(taskShape(moved.task).vocab.labels.join(""), CORPUS.vocab);
  assert.throws(
    () => checkRunConfig({ ...moved, task: { ...moved.task, vocab: "" } }, "runs/x/config.json"),
    /^RunInputError: runs\/x\/config.json: vocab: empty/,
  );
});

Deno.test("text: bad options are one-line errors naming the flag", async () => {
  await withTempDir(async (dir) => {
    const short = join(dir, "short.txt");
    await Deno.writeTextFile(short, "abcdef");
    const latin1 = join(dir, "latin1.txt");
    await Deno.writeFile(latin1, Uint8Array.of(0x61, 0xe9, 0x62)); // "aéb" in Latin-1
    const base: TextOptions = { data: short, vocab: "", n_ctx: 2, stride: 1, frac_train: 0.5 };
    const cases: [Partial<TextOptions>, RegExp][] = [
      [{ data: join(dir, "none.txt") }, /^--data .*none.txt: cannot read it \(/],
      [{ data: latin1 }, /^--data .*latin1.txt: not UTF-8 text$/],
      [{ data: "" }, /^--data: no file given$/],
      [{ n_ctx: 0 }, /^--n-ctx 0: must be an integer from 1 to 1024$/],
      [{ stride: 0 }, /^--stride 0: must be an integer from 1 to/],
      [{ frac_train: 1 }, /^--frac-train 1: must be strictly between 0 and 1$/],
      // 6 characters, half to train: 3 each side, a window of n_ctx 3 needs 4.
      [
        { n_ctx: 3 },
        /^--data .*short.txt: its training part is shorter than a window of --n-ctx 3/,
      ],
      [{ vocab: "abca" }, /^vocab: a character appears twice/],
    ];
    for (const [change, message] of cases) {
      assert.throws(() => textTask({ ...base, ...change }), (e: Error) => {
        assert.ok(e instanceof RangeError, `${e}`);
        assert.match(e.message, message);
        assert.doesNotMatch(e.message, /\n/);
        return true;
      });
    }
  });
});
