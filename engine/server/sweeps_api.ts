/**
 * The sweep endpoints: `GET /api/sweeps` lists the sweep folders under the runs folder
 * (`SweepSummary`), `GET /api/sweeps/NAME` answers one with its members' values, outcomes and
 * curves (`SweepDetail`). A member's own views are the run endpoints at `/api/runs/SWEEP%2FMEMBER/`.
 *
 * @module
 */

import { HttpError, json } from "./http.ts";
import { checkName, type RunsApi } from "./runs_api.ts";
import { summarizeSweep, sweepDetail } from "./sweep_index.ts";

/**
 * `GET /api/sweeps`: every sweep, by name.
 *
 * @example
 * ```ts ignore
 * await (await listSweeps(api)).json(); // [{ name: "sweep_modular_add_23", members: 4, landed: 4, ... }]
 * ```
 */
export async function listSweeps(api: RunsApi): Promise<Response> {
  return json(200, (await api.sweeps.scan()).map(summarizeSweep));
}

/**
 * `GET /api/sweeps/NAME`: one sweep, or a 400 (bad name) or 404 (no sweep there).
 *
 * @example
 * ```ts ignore
 * await (await getSweep(api, "sweep_modular_add_23")).json(); // { name, axes, members: [...] }
 * ```
 */
export async function getSweep(api: RunsApi, name: string): Promise<Response> {
  if (name.includes("/")) throw new HttpError(400, `'${name}': a sweep's name has no '/'`);
  checkName(name);
  const entry = await api.sweeps.get(name);
  if (entry === undefined) throw new HttpError(404, `sweep '${name}' not found`);
  return json(200, sweepDetail(entry));
}
