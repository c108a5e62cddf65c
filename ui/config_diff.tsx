/// <reference lib="dom" />
/**
 * The config diff: of the first two checked runs, the `config.json` leaves that differ, side by
 * side.
 *
 * @module
 */

import { useEffect } from "preact/hooks";
import { diffConfigs, formatLeaf } from "./diff.ts";
import { configs, loadConfig, runs, selected } from "./state.ts";

/**
 * The diff of the first two checked runs' configs.
 *
 * @example
 * ```tsx
 * import { ConfigDiff } from "./config_diff.tsx";
 * const view = <ConfigDiff />;
 * ```
 */
export function ConfigDiff() {
  const [a, b] = selected.value;
  // Only runs the server lists have a config.json to read, and sweeps' members (SWEEP/MEMBER).
  const listed = a !== undefined && b !== undefined &&
    [a, b].every((n) => n.includes("/") || runs.value.some((r) => r.name === n));
  useEffect(() => {
    if (!listed) return;
    void loadConfig(a);
    void loadConfig(b);
  }, [a, b, listed]);

  const body = () => {
    if (a === undefined || b === undefined) {
      return <p class="hint">check two runs to compare their configs</p>;
    }
    const ca = configs.value[a], cb = configs.value[b];
    if (ca === undefined || cb === undefined) return <p class="hint">loading…</p>;
    const rows = diffConfigs(ca, cb);
    return (
      <>
        {selected.value.length > 2 && <p class="hint">the first two checked runs</p>}
        {rows.length === 0 ? <p class="hint">the same config</p> : (
          <table>
            <thead>
              <tr>
                <th>field</th>
                <th>{a}</th>
                <th>{b}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.path} data-testid={`diff-${r.path}`}>
                  <td class="path">{r.path}</td>
                  <td>{formatLeaf(r.a)}</td>
                  <td>{formatLeaf(r.b)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </>
    );
  };

  return (
    <section class="diff" data-testid="config-diff">
      <h2>config diff</h2>
      {body()}
    </section>
  );
}
