/** The chapter's figures, as vega-lite specs; each title states what the figure shows. */
import type { Linear } from "../../lib/layers/linear.ts";
import type { Sequential } from "../../lib/layers/sequential.ts";
import type { MonitorLog } from "../../lib/monitors.ts";
import { imageGrid, lineChart, sideBySide, stacked, type VegaLiteSpec } from "../../lib/plot.ts";
import type { Sweep, SymmetryStudy } from "./diagnose.ts";
import type { Fix } from "./fix.ts";
import type { Run } from "./network.ts";
import { LN2 } from "./question.ts";
import type { Reproduction } from "./reproduce.ts";

/** The reproduction's loss per step, the ten-bias model's, and the two derived numbers. */
export function plateauFigure(reproduction: Reproduction): VegaLiteSpec {
  const network = reproduction.run.lossCurve.map((y, x) => ({ x, y, series: "network" }));
  const biasOnly = reproduction.biasOnlyCurve.map((y, x) => ({ x, y, series: "10 biases alone" }))
    .filter((point) => point.x % 3 === 0);
  return lineChart({
    title: "Zero init: the loss falls from 10 ln 2 to Σ H(p_k), and stops",
    data: [...network, ...biasOnly],
    xTitle: "full-batch gradient-descent step",
    yTitle: "training loss (BCE summed over 10 outputs)",
    seriesTitle: "model",
    rules: [
      { y: 10 * LN2, label: `10 ln 2 = ${(10 * LN2).toFixed(4)}` },
      { y: reproduction.classEntropy, label: `Σ H(p_k) = ${reproduction.classEntropy.toFixed(4)}` },
    ],
  });
}

/** Gradient norm per parameter per step: leaky ReLU from zeros, and sigmoid from zeros. */
export function gradientNormFigure(reproduction: Reproduction, study: SymmetryStudy): VegaLiteSpec {
  const panel = (log: MonitorLog, title: string, lastStep = Infinity) =>
    lineChart({
      title,
      data: log.select("gradient-norm").filter(({ step }) => step <= lastStep).map((
        { step, layer, value },
      ) => ({ x: step, y: value, series: layer })),
      xTitle: "step",
      yTitle: "L2 norm of the gradient",
      seriesTitle: "parameter",
      width: 300,
      height: 220,
    });
  return sideBySide(
    [
      panel(reproduction.log, "leaky ReLU hidden, zero init"),
      panel(study.log, "sigmoid hidden, zero init (first 20 steps)", 20),
    ],
    "Gradient norms: with f(0) = 0 only the output bias has a gradient",
  );
}

/**
 * Loss per step of the sweep, one line per learning rate: runs that share a
 * learning rate have identical curves, so each line stands for all of them.
 */
export function sweepFigure(sweep: Sweep): VegaLiteSpec {
  const rates = [...new Set(sweep.entries.map((entry) => entry.config.learningRate))];
  const data = rates.flatMap((rate) => {
    const runs = sweep.entries.filter((entry) => entry.config.learningRate === rate);
    const series = `lr ${rate} (${runs.length} run${runs.length > 1 ? "s" : ""})`;
    return runs[0].lossCurve.map((y, x) => ({ x, y, series }));
  });
  return lineChart({
    title: `Whatever was changed, the loss lands on Σ H(p_k) (${sweep.trainCount} training digits)`,
    data,
    xTitle: "full-batch gradient-descent step",
    yTitle: "training loss",
    seriesTitle: "learning rate",
    rules: [{ y: sweep.classEntropy, label: `Σ H(p_k) = ${sweep.classEntropy.toFixed(4)}` }],
  });
}

/** The symmetric sigmoid network's loss minus Σ H(p_k), per step: it crosses below 0 late. */
export function symmetryDelayFigure(study: SymmetryStudy): VegaLiteSpec {
  return lineChart({
    title: "Symmetric sigmoid units: on the plateau for a long time, then below it",
    // From where the gap is below 0.1: the fall from 10 ln 2 is the plateau figure's story.
    data: study.zeroInit.lossCurve.map((y, x) => ({ x, y: y - study.classEntropy }))
      .filter(({ y }) => y < 0.1),
    xTitle: "full-batch gradient-descent step",
    yTitle: "training loss − Σ H(p_k)",
    rules: [{ y: 0, label: "Σ H(p_k): the class frequencies and nothing else" }],
  });
}

/** The first-layer weights of 8 hidden units as 28x28 images, zero init vs Glorot (sigmoid hidden units). */
export async function hiddenUnitImages(study: SymmetryStudy, units = 8): Promise<VegaLiteSpec> {
  const pictures = async (model: Sequential, name: string) => {
    const linear = model.layers[0] as Linear;
    const w = await linear.weight.value.data();
    const images = new Float32Array(units * 784);
    for (let j = 0; j < units; j++) {
      for (let i = 0; i < 784; i++) images[j * 784 + i] = w[i * linear.outFeatures + j];
    }
    const extreme = Math.max(...images.map(Math.abs)) || 1;
    return imageGrid({
      images,
      count: units,
      height: 28,
      width: 28,
      columns: units,
      pixelSize: 2,
      range: [-extreme, extreme],
      labels: Array.from({ length: units }, (_, j) => `unit ${j}`),
      title: name,
    });
  };
  const glorot = study.glorot[0];
  return stacked(
    [
      await pictures(study.zeroInit.model, `zero init, after ${study.zeroInit.config.steps} steps`),
      await pictures(
        glorot.model,
        `Glorot init (seed ${glorot.seed}), after ${study.glorotSteps} steps`,
      ),
    ],
    "Incoming weights of 8 sigmoid hidden units (grey = 0)",
  );
}

/** Test accuracy per step on every seed: zero init (flat at the majority class) and the two fixes. */
export function fixFigure(fixed: Fix, reproduction: Reproduction): VegaLiteSpec {
  const curve = (run: Run, series: string) =>
    run.testAccuracyCurve!.map((y, i) => ({ x: i + 1, y, series, seed: run.seed }));
  const spec = lineChart({
    title: "Test accuracy per step, one line per seed: He init learns with either output",
    data: [
      ...fixed.he.flatMap((run) => curve(run, "He, sigmoid + BCE")),
      ...fixed.softmax.flatMap((run) => curve(run, "He, softmax CE")),
    ],
    xTitle: "full-batch gradient-descent step",
    yTitle: "test accuracy",
    seriesTitle: "network",
    yDomain: [0, 1],
    rules: [{ y: reproduction.testMajorityFrequency, label: "zero init: the majority class" }],
  });
  // One line per seed within each colour.
  const line = (spec.layer as { encoding?: Record<string, unknown> }[])[0];
  line.encoding!.detail = { field: "seed", type: "nominal" };
  return spec;
}
