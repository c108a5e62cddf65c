/// <reference lib="dom" />
/**
 * The page of `mechlab serve`: runs, curves, checkpoints, config diff, the launch form, the
 * prompt box that samples from a run, the analysis views (`analysis/`) and the prompt views of a
 * run with text tokens (`analysis/prompt.tsx`), each a small view over
 * the signals of `state.ts`. Entry point of the bundle (`deno task build:ui`).
 *
 * @module
 */

import { render } from "preact";
import { Analysis } from "./analysis/panel.tsx";
import { PromptViews } from "./analysis/prompt.tsx";
import { startAnalysis } from "./analysis/state.ts";
import { Checkpoints } from "./checkpoints.tsx";
import { ConfigDiff } from "./config_diff.tsx";
import { Curves } from "./curves.tsx";
import { LaunchForm } from "./launch_form.tsx";
import { RunsTable } from "./runs_table.tsx";
import { SampleBox } from "./sample.tsx";
import { sweepEvents } from "./sweep/state.ts";
import { SweepPanel } from "./sweep/sweep_panel.tsx";
import { connection, problem, start } from "./state.ts";

const CONNECTION_TEXT = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "reconnecting…",
  unauthorized: "not signed in",
};

/**
 * The whole page.
 *
 * @example
 * ```tsx
 * import { App } from "./app.tsx";
 * const page = <App />;
 * ```
 */
export function App() {
  return (
    <>
      <header>
        <h1>mechlab</h1>
        <span class={`connection ${connection.value}`} data-testid="connection">
          {CONNECTION_TEXT[connection.value]}
        </span>
      </header>
      {connection.value === "unauthorized" && (
        <p class="error" role="alert">
          This page needs the address <code>mechlab serve</code> printed, with its{" "}
          <code>?token=</code>: open that once and the browser keeps the session.
        </p>
      )}
      {problem.value !== "" && connection.value !== "unauthorized" && (
        <p class="error" role="alert" data-testid="problem">{problem}</p>
      )}
      <main>
        <RunsTable />
        <SweepPanel />
        <Curves />
        <div class="panels">
          <Checkpoints />
          <ConfigDiff />
          <LaunchForm />
          <SampleBox />
        </div>
        <Analysis />
        <PromptViews />
      </main>
    </>
  );
}

const root = globalThis.document?.getElementById("app");
if (root) {
  render(<App />, root);
  void start(sweepEvents).then(startAnalysis);
}
