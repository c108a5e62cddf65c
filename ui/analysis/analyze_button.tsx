/// <reference lib="dom" />
/**
 * Analysing a run from the page: the button in the "not analysed" line that starts
 * `mechlab analyze` on the server (`POST /api/runs/NAME/analyze`), and where that analysis stands:
 * "analysing…" while it runs (the views appear and grow as its checkpoints finish), its error line
 * if it failed.
 *
 * @module
 */

import { analyzeJobs, analyzeRun } from "./state.ts";

/**
 * The run's analysis from the page as it stands: "analysing…", its error line, or nothing.
 *
 * @example
 * ```tsx
 * import { AnalyzeStatus } from "./analyze_button.tsx";
 * const view = <AnalyzeStatus run="modular_add_23" />;
 * ```
 */
export function AnalyzeStatus({ run }: { run: string }) {
  const job = analyzeJobs.value[run];
  if (job?.running) {
    return <span class="hint" data-testid="analyze-status">analysing…</span>;
  }
  if (job?.error) return <span class="error" data-testid="analyze-error">{job.error}</span>;
  return null;
}

/**
 * The "analyse" button of a run never analysed, then its analysis' status in its place.
 *
 * @example
 * ```tsx
 * import { AnalyzeButton } from "./analyze_button.tsx";
 * const view = <AnalyzeButton run="modular_add_23" />;
 * ```
 */
export function AnalyzeButton({ run }: { run: string }) {
  const running = analyzeJobs.value[run]?.running ?? false;
  return (
    <>
      {!running && (
        <button
          type="button"
          data-testid="analyze-run"
          onClick={() => void analyzeRun(run)}
        >
          analyse it here
        </button>
      )} <AnalyzeStatus run={run} />
    </>
  );
}
