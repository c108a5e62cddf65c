/// <reference lib="dom" />
/**
 * TransformerLens' head detectors (`DetectorScores`): a layer × head map per detector
 * (previous token, duplicate token, induction), each head coloured by its score, the value on
 * hover. Test ids are `${prefix}-${kind}`.
 *
 * @module
 */

import { formatNumber } from "../runs_rows.ts";
import type { DetectorScores } from "../types.ts";
import { sequentialScale } from "./colour_scale.ts";
import { Heatmap } from "./heatmap.tsx";

/** The detectors' scale: a score is a fraction of the attention. */
export const SCORE = sequentialScale("detector score", [], { min: 0, max: 1 });
const DETECTORS = ["previous_token", "duplicate_token", "induction"] as const;

/**
 * The three detectors' maps.
 *
 * @example
 * ```tsx
 * import { Detectors } from "./detectors.tsx";
 * import type { DetectorScores } from "../types.ts";
 * const view = (s: DetectorScores) => <Detectors prefix="detector" scores={s} />;
 * ```
 */
export function Detectors(
  props: { prefix: string; scores: Pick<DetectorScores, typeof DETECTORS[number]> },
) {
  const { scores } = props;
  return (
    <div class="pair">
      {DETECTORS.map((kind) => (
        <figure key={kind}>
          <Heatmap
            testid={`${props.prefix}-${kind}`}
            rows={scores[kind].length}
            cols={scores[kind][0]?.length ?? 0}
            maxCell={24}
            values={scores[kind].flat()}
            scale={SCORE}
            rowTitle="layer"
            colTitle="head"
            describe={([l, h]) => `L${l}H${h} ${kind}: ${formatNumber(scores[kind][l]![h]!)}`}
          />
          <figcaption>{kind.replace("_", " ")}</figcaption>
        </figure>
      ))}
    </div>
  );
}
