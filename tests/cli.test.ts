// The command line as a person uses it: help, bad input (one line, non-zero exit), the tour.
import * as assert from "node:assert/strict";
import { shownCommand } from "../cli/self_command.ts";
import { mechlab } from "./helpers.ts";

Deno.test("cli: --help lists every command", async () => {
  const { code, out } = await mechlab("--help");
  assert.equal(code, 0);
  for (const c of ["tour", "train", "sweep", "serve"]) {
    assert.match(out, new RegExp(`^  ${c} `, "m"));
  }
});

Deno.test("cli: bad input gets one line naming the problem and exit code 2", async () => {
  for (
    const [args, message] of [
      [["trian"], "mechlab: unknown command 'trian'; see --help"],
      [["--frobnicate"], "mechlab: unknown flag '--frobnicate'; see --help"],
      [["tour", "--seed", "x"], "mechlab: --seed must be an integer below 2^53, got 'x'"],
      [["tour", "--seed", ""], "mechlab: --seed must be an integer below 2^53, got ''"],
      [
        ["tour", "--seed", "99999999999999999999"],
        "mechlab: --seed must be an integer below 2^53, got '99999999999999999999'",
      ],
      [["tour", "--sed", "1"], "mechlab: unknown flag '--sed'; see --help"],
      [["tour", "extra"], "mechlab: unexpected argument 'extra'; see --help"],
    ] as const
  ) {
    const { code, err } = await mechlab(...args);
    assert.equal(code, 2, args.join(" "));
    assert.equal(err.trim(), message);
  }
});

Deno.test("cli: the tour finds the frequencies planted in its embedding", async () => {
  const { code, out } = await mechlab("tour", "--seed", "3");
  assert.equal(code, 0);
  assert.match(
    out,
    /\[1,3,4\] \+ \[3,2,4\] -> error: cannot broadcast \[1,3,4\] with \[3,2,4\]: dim 1 is 3 vs 2/,
  );
  assert.match(out, /trace of \[\[1,2\],\[3,4\]\]: "ii->" = 5/);
  const line = out.split("\n").find((l) => l.includes("largest Fourier components"));
  assert.ok(line, out);
  const top = [...line.matchAll(/(cos|sin) (\d+)/g)].map((m) => Number(m[2]));
  assert.deepEqual(new Set(top), new Set([14, 35, 41]));
  // A rank-2 product has two non-zero singular values.
  const sv = out.split("\n").find((l) => l.includes("singular values of"))!;
  const values = [...sv.matchAll(/\d+\.\d+/g)].map((m) => Number(m[0]));
  assert.equal(values.filter((v) => v > 1e-3).length, 2, sv);
});

Deno.test("cli: suggested commands name this program as the person can type it", () => {
  const self = {
    execPath: "/usr/bin/deno",
    standalone: false,
    moduleUrl: "file:///w/cli/self_command.ts",
    mainPath: "/w/main.ts",
  };
  // In the repository: its tasks; elsewhere: main.ts by its path from there; compiled: itself.
  assert.equal(
    shownCommand(["analyze", "--run", "runs/a b"], self, "/w"),
    "deno task analyze --run 'runs/a b'",
  );
  assert.equal(shownCommand(["serve"], self, "/tmp/x"), "deno run -A ../../w/main.ts serve");
  // A Deno that npx fetched (the README's way on a fresh machine) is not on the PATH: npx again.
  const npx = { ...self, execPath: "/root/.npm/_npx/8f3a/node_modules/deno/deno" };
  assert.equal(
    shownCommand(["serve"], npx, "/w"),
    `npx -y deno@${Deno.version.deno} task serve`,
  );
  assert.equal(
    shownCommand(["train", "--resume", "it's"], {
      ...self,
      execPath: "/opt/mechlab",
      standalone: true,
    }, "/w"),
    "/opt/mechlab train --resume 'it'\\''s'",
  );
});
