/**
 * The shapes `mechlab serve`'s API sends and takes, as the page imports them: one definition for
 * the server and the page, in `engine/server/api_types.ts` (the API's) and
 * `engine/analysis/report.ts` (what `mechlab analyze` writes), taken here as types only, so the
 * bundle holds none of the engine. Kept apart from the client (`api.ts`) so the pure logic and its
 * tests type-check without the browser's globals.
 *
 * @example
 * ```ts
 * import type { AnalysisIndex, RunSummary } from "./types.ts";
 * const steps = (index: AnalysisIndex) => index.steps;
 * const names = (runs: RunSummary[]) => runs.map((r) => r.name);
 * ```
 *
 * @module
 */

export type {
  Checkpoint,
  Choice,
  ErrorAnswer,
  LaunchRequest,
  MetricsEvent,
  MetricsRecord,
  Preset,
  PresetsAnswer,
  RunLog,
  RunStatus,
  RunSummary,
  SweepDetail,
  SweepMemberRow,
  SweepOutcome,
  SweepSummary,
  VocabAnswer,
} from "../engine/server/api_types.ts";

export type {
  AnalysisIndex,
  AnalysisSummary,
  CheckpointReport,
  DetectorScores,
  HeadCircuits,
  InspectReport,
  ModularReport,
  OoclReport,
  ProgressRow,
  SequenceInspectReport,
  SequencePatchingReport,
  SequenceReport,
} from "../engine/analysis/report.ts";
