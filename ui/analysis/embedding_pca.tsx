/// <reference lib="dom" />
/**
 * The token embeddings `W_E` in the plane of their first two principal components at the shown
 * step, each axis with the fraction of the variance it explains. Any task: tokens the model treats
 * alike sit together (an `oocl` token near its alias once they align; in a grokked `modular` run
 * the leading components are often one key frequency's cos and sin, and the tokens a circle).
 *
 * @module
 */

import { colourAt, cssColour, sequentialScale } from "./colour_scale.ts";
import { ColourLegend } from "./heatmap.tsx";
import { Plane } from "./plane.tsx";
import { analysisIndex, stepReport } from "./state.ts";

const SIZE = 320;

/**
 * The tokens on PC1 and PC2, labelled and coloured by id.
 *
 * @example
 * ```tsx
 * import { EmbeddingPca } from "./embedding_pca.tsx";
 * const view = <EmbeddingPca />;
 * ```
 */
export function EmbeddingPca() {
  const vocab = analysisIndex.value?.vocab;
  const pca = stepReport.value?.embedding_pca;
  if (vocab === undefined || pca === undefined || pca.explained.length < 2) return null;
  const scale = sequentialScale("token id", [0, vocab.length - 1]);
  const percent = (k: number) => `${((pca.explained[k] ?? 0) * 100).toFixed(1)}%`;
  return (
    <section class="analysis-view" data-testid="embedding-pca">
      <h3>embedding PCA · step {stepReport.value?.step}</h3>
      <p class="hint">
        W_E's rows on their first two principal components; {percent(0)} and {percent(1)}{" "}
        of the variance
      </p>
      <Plane
        testid="embedding-pca-plane"
        xs={pca.coords.map((c) => c[0] ?? 0)}
        ys={pca.coords.map((c) => c[1] ?? 0)}
        labels={vocab}
        colours={vocab.map((_, t) => cssColour(colourAt(scale, t)))}
        size={SIZE}
        xTitle={`PC1 (${percent(0)})`}
        yTitle={`PC2 (${percent(1)})`}
      />
      <ColourLegend scale={scale} />
    </section>
  );
}
