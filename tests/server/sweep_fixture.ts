// A sweep folder written by hand for the server's and the page's tests: sweep.json from the
// engine's own plan code (weight_decay 0.3, 1 × frac_train 0.3, 0.5 × 3 seeds) and member run
// folders whose test accuracy first reaches 0.99 at a step chosen here, so what the server and the
// page compute is checked against numbers the tests know.
import { gridMembers, openSweep, setMemberStatus, type SweepAxis } from "../../engine/sweep/mod.ts";
import { resolveConfig } from "../../engine/train/presets.ts";

/** The sweep's folder name. */
export const SWEEP = "sweep_smoke";

const AXES: SweepAxis[] = [
  { flag: "weight-decay", key: "weight_decay", section: "train", values: [0.3, 1] },
  { flag: "frac-train", key: "frac_train", section: "task", values: [0.3, 0.5] },
];

/**
 * Where each member (in plan order: weight_decay slowest, then frac_train, then seed) first
 * reaches test accuracy 1 (null: never, within its 400 steps).
 */
export const REACHED: (number | null)[] = [
  300,
  100,
  200, // wd 0.3, frac 0.3: median 200, 100 to 300
  100,
  100,
  400, // wd 0.3, frac 0.5: median 100, 100 to 400
  null,
  null,
  300, // wd 1, frac 0.3: median never (2 of 3 never)
  200,
  null,
  400, // wd 1, frac 0.5: median 400 (never counts as later than any step)
];

/** One member's metrics line at `step`, given where it generalises. */
export function memberLine(step: number, reached: number | null) {
  const done = reached !== null && step >= reached;
  return {
    step,
    "train/loss": 1 / (step + 1),
    "test/loss": done ? 0.01 : 2 - step / 1000,
    "test/acc": done ? 1 : 0.1 + step / 1000,
  };
}

/** The steps each member evaluates at. */
export const STEPS = [0, 100, 200, 300, 400];

/** The sweep's members, as the plan names them. */
export const MEMBERS = gridMembers(AXES, {
  seeds: 3,
  base: { seed: 0, data_seed: 598 },
  holdDataSeed: false,
});

/**
 * Writes sweep.json and the members at `land` (indices; all by default) with their lines up to
 * `upTo` steps (all by default), each marked done if it has all its lines.
 */
export async function writeSweep(
  runs: string,
  land: number[] = MEMBERS.map((_, i) => i),
  upTo = 400,
): Promise<string> {
  const dir = `${runs}/${SWEEP}`;
  await openSweep(dir, {
    mechlab_version: "0.1.0",
    preset: "smoke",
    overrides: { task: {}, model: {}, train: { steps: 400 } },
    axes: AXES,
    seeds: 3,
    hold_data_seed: false,
    members: MEMBERS,
  });
  for (const i of land) await writeMember(runs, i, upTo);
  return dir;
}

/** Writes (or rewrites) member `i`'s folder with its lines up to `upTo`. */
export async function writeMember(runs: string, i: number, upTo = 400): Promise<void> {
  const m = MEMBERS[i]!;
  const dir = `${runs}/${SWEEP}/${m.name}`;
  await Deno.mkdir(dir, { recursive: true });
  const config = resolveConfig("smoke", { train: { steps: 400 } }, "0.1.0");
  await Deno.writeTextFile(`${dir}/config.json`, JSON.stringify(config));
  const lines = STEPS.filter((s) => s <= upTo).map((s) => memberLine(s, REACHED[i]!));
  await Deno.writeTextFile(
    `${dir}/metrics.jsonl`,
    lines.map((l) => JSON.stringify(l) + "\n").join(""),
  );
  await setMemberStatus(`${runs}/${SWEEP}`, m.name, upTo >= 400 ? "done" : "running");
}
