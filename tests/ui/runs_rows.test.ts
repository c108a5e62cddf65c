// The runs table's rows: the text filter, header-click sorting (numbers as numbers, names with
// numbers in natural order, runs without a value last either way, ties stable).
import * as assert from "node:assert/strict";
import {
  cellValue,
  filterRuns,
  formatNumber,
  importedText,
  nextSort,
  sortRuns,
  vanished,
} from "../../ui/runs_rows.ts";
import type { RunSummary } from "../../ui/types.ts";

function run(name: string, extra: Partial<RunSummary> = {}): RunSummary {
  return {
    name,
    task: "modular",
    preset: "smoke",
    status: "finished",
    step: 0,
    steps: 1500,
    metrics: {},
    started: "2026-11-20T10:00:00.000Z",
    ...extra,
  };
}

const RUNS = [
  run("modular_add_23", { step: 1500, metrics: { "test/acc": 1, "train/loss": 1e-3 } }),
  run("modular_add_23-10", {
    step: 300,
    status: "running",
    metrics: { "test/acc": 0.2, "train/loss": 0.5 },
    started: "2026-11-21T09:00:00.000Z",
  }),
  run("modular_add_23-9", { step: 0, status: "stopped", started: "2026-11-19T08:00:00.000Z" }),
  run("oocl_ssq_113", {
    task: "oocl",
    preset: "oocl",
    step: 500,
    metrics: { "test/acc": 0.6, "train/loss": null },
    started: "2026-11-22T07:00:00.000Z",
  }),
];

const names = (rs: RunSummary[]) => rs.map((r) => r.name);

Deno.test("cellValue: metrics by key, null when not logged or NaN", () => {
  assert.equal(cellValue(RUNS[0]!, "test_acc"), 1);
  assert.equal(cellValue(RUNS[0]!, "test_loss"), null);
  assert.equal(cellValue(RUNS[3]!, "train_loss"), null); // logged NaN arrives as null
  assert.equal(cellValue(RUNS[1]!, "step"), 300);
  assert.equal(cellValue(RUNS[3]!, "task"), "oocl");
});

Deno.test("filterRuns: every word, any case, in name, task, preset or status", () => {
  assert.deepEqual(names(filterRuns(RUNS, "")), names(RUNS));
  assert.deepEqual(names(filterRuns(RUNS, "  OOCL ")), ["oocl_ssq_113"]);
  assert.deepEqual(names(filterRuns(RUNS, "running")), ["modular_add_23-10"]);
  assert.deepEqual(names(filterRuns(RUNS, "add smoke stopped")), ["modular_add_23-9"]);
  assert.deepEqual(names(filterRuns(RUNS, "add oocl")), []);
});

Deno.test("sortRuns: by name in natural order, both ways", () => {
  const asc = { column: "name", descending: false } as const;
  assert.deepEqual(names(sortRuns(RUNS, asc)), [
    "modular_add_23",
    "modular_add_23-9",
    "modular_add_23-10",
    "oocl_ssq_113",
  ]);
  assert.deepEqual(names(sortRuns(RUNS, { ...asc, descending: true })), [
    "oocl_ssq_113",
    "modular_add_23-10",
    "modular_add_23-9",
    "modular_add_23",
  ]);
});

Deno.test("sortRuns: numbers as numbers; runs without the metric last in both directions", () => {
  assert.deepEqual(names(sortRuns(RUNS, { column: "train_loss", descending: false })), [
    "modular_add_23",
    "modular_add_23-10",
    "modular_add_23-9",
    "oocl_ssq_113",
  ]);
  assert.deepEqual(names(sortRuns(RUNS, { column: "train_loss", descending: true })), [
    "modular_add_23-10",
    "modular_add_23",
    "modular_add_23-9",
    "oocl_ssq_113",
  ]);
  assert.deepEqual(names(sortRuns(RUNS, { column: "step", descending: true })), [
    "modular_add_23",
    "oocl_ssq_113",
    "modular_add_23-10",
    "modular_add_23-9",
  ]);
});

Deno.test("sortRuns: started newest first; ties keep the list's order; input untouched", () => {
  const copy = [...RUNS];
  assert.deepEqual(names(sortRuns(RUNS, { column: "started", descending: true })), [
    "oocl_ssq_113",
    "modular_add_23-10",
    "modular_add_23",
    "modular_add_23-9",
  ]);
  assert.deepEqual(names(sortRuns(RUNS, { column: "preset", descending: false })), [
    "oocl_ssq_113",
    "modular_add_23",
    "modular_add_23-10",
    "modular_add_23-9",
  ]);
  assert.deepEqual(RUNS, copy);
});

Deno.test("nextSort: the same header flips; a new one starts descending for numbers", () => {
  assert.deepEqual(nextSort({ column: "step", descending: true }, "step"), {
    column: "step",
    descending: false,
  });
  assert.deepEqual(nextSort({ column: "step", descending: true }, "status"), {
    column: "status",
    descending: false,
  });
  assert.deepEqual(nextSort({ column: "name", descending: false }, "test_acc"), {
    column: "test_acc",
    descending: true,
  });
  assert.deepEqual(nextSort({ column: "name", descending: false }, "started"), {
    column: "started",
    descending: true,
  });
});

Deno.test("formatNumber: three significant digits; an exponent below 0.001", () => {
  assert.deepEqual(
    [0.4719, 1, 0.0915, 10.84, 0.001, 0.00263, 1.7e-6, 3.77e-5, 0, 123456, 99999].map(formatNumber),
    [
      "0.472",
      "1",
      "0.0915",
      "10.8",
      "0.001",
      "0.00263",
      "1.70e-6",
      "3.77e-5",
      "0",
      "1.23e5",
      "1.00e5",
    ],
  );
});

Deno.test("vanished: held runs the server no longer lists, once each", () => {
  assert.deepEqual(vanished([{ name: "a" }, { name: "c" }], ["a", "b", "b", "d", "c"]), ["b", "d"]);
  assert.deepEqual(vanished([], []), []);
});

Deno.test("importedText: source and parameter count for an imported model, null otherwise", () => {
  const gpt2: RunSummary = {
    name: "gpt2",
    task: "pretrained",
    preset: "import",
    status: "imported",
    step: 0,
    steps: 0,
    metrics: {},
    started: "2026-12-06T10:00:00.000Z",
    imported: { source: "gpt2", n_params: 124_439_808 },
  };
  assert.equal(importedText(gpt2), "gpt2, 124M parameters");
  assert.equal(
    importedText({ ...gpt2, imported: { source: "tiny", n_params: 856_305 } }),
    "tiny, 856k parameters",
  );
  assert.equal(
    importedText({ ...gpt2, imported: { source: "t", n_params: 120 } }),
    "t, 120 parameters",
  );
  assert.equal(importedText(RUNS[0]!), null);
});
