/**
 * The question, as the asker told it, and the setup we assume where they did not say.
 *
 * "Homemade deep learning library: numerical issue with relu activation." Their library works
 * with sigmoid; with ReLU, 50 epochs on about 500 MNIST examples train well for about 8 epochs,
 * then the accuracy collapses to a dummy classifier's ~0.1, and other learning rates "gave the
 * same result". They showed their ReLU: forward max(x, 0), backward "outputs > 0". The answer
 * they got: ReLU is to blame, because it "ignores the negative characteristics" MNIST needs.
 *
 * Our assumptions (marked as such in the notebook): 500 stratified MNIST training images,
 * 784-100-100-10, Glorot uniform, float32, the naive exp/sum softmax cross-entropy that a
 * homemade library typically has, Adam at 0.03, minibatches of 32, and training that keeps
 * going after a non-finite loss, as the asker's did.
 */
import { gradcheckLayer, type GradcheckReport, Layer, ReLU, type Tensor } from "../../lib/mod.ts";
import { mul, relu, step } from "../../lib/ops.ts";
import { cpu } from "../../lib/backend/mod.ts";
import { Random } from "../../lib/random.ts";
import type { Dataset } from "../../lib/data/dataset.ts";
import { loadMnist, subset } from "../../lib/data/mod.ts";

/** ln(largest float32) = ln(3.4028235e38): e^z is Infinity in float32 once z passes it. */
export const FLOAT32_EXP_LIMIT = Math.log(3.4028234663852886e38);
/** ln(largest float64) = ln(1.7976931348623157e308). */
export const FLOAT64_EXP_LIMIT = Math.log(Number.MAX_VALUE);
/** The loss of a uniform guess over ten classes. */
export const LN10 = Math.log(10);

/** The asker's setting, with our assumptions filled in. */
export const ASKER_SETUP = {
  trainCount: 500,
  sizes: [784, 100, 100, 10],
  weightInit: "glorot-uniform",
  optimizer: "adam",
  learningRate: 0.03,
  batchSize: 32,
  epochs: 50,
} as const;

/**
 * The asker's ReLU, as a learner writes it in their own library: the derivative is taken on
 * the layer's outputs (y > 0) where lib's ReLU takes it on the inputs (x > 0).
 */
export class AskersReLU extends Layer {
  constructor() {
    super("askers-relu");
  }
  // y = max(x, 0)
  forward(x: Tensor): Tensor {
    this.input = x;
    return (this.output = relu(x));
  }
  // dx = dy · 1[y > 0]   (the asker's "outputs > 0")
  backward(dy: Tensor): Tensor {
    const y = this.requireOutput();
    this.checkGradient(dy, y);
    return mul(dy, step(y));
  }
}

export interface ReluCheck {
  /** lib's gradcheck of the asker's layer, float64, central differences. */
  report: GradcheckReport;
  /** Inputs checked; none within `kinkMargin` of 0, where a central difference straddles the kink. */
  inputs: number;
  /** Largest |asker's dx − lib ReLU's dx| on the same input, including inputs exactly 0. */
  largestDifferenceFromLibRelu: number;
}

/**
 * Gradient-check the asker's ReLU exactly as written, and compare its backward with lib's
 * ReLU on the same inputs (with some set to exactly 0, where y > 0 and x > 0 agree too).
 */
export function checkAskersRelu(seed = 0): ReluCheck {
  const random = new Random(seed);
  const rows = 8, columns = 16, kinkMargin = 1e-3;
  const values = new Float64Array(rows * columns).map(() => {
    let v = 0;
    while (Math.abs(v) < kinkMargin) v = random.normal();
    return v;
  });
  const input = cpu.fromValues(values, [rows, columns], "float64");
  const report = gradcheckLayer(new AskersReLU(), input, { seed });

  const withZeros = Float64Array.from(values, (v, i) => (i % 5 === 0 ? 0 : v));
  const x = cpu.fromValues(withZeros, [rows, columns], "float64");
  const dy = cpu.fromValues(
    new Float64Array(rows * columns).map(() => random.normal()),
    [rows, columns],
    "float64",
  );
  const asker = new AskersReLU(), library = new ReLU();
  asker.forward(x);
  library.forward(x);
  const a = asker.backward(dy).storage as Float64Array;
  const b = library.backward(dy).storage as Float64Array;
  let largest = 0;
  for (let i = 0; i < a.length; i++) largest = Math.max(largest, Math.abs(a[i] - b[i]));
  return { report, inputs: values.length, largestDifferenceFromLibRelu: largest };
}

export interface ChapterData {
  /** 500 stratified MNIST training images, drawn by the seed. */
  train: Dataset;
  /** The fixed 2,000-image MNIST test split, for the validation accuracy. */
  validation: Dataset;
}

/** The seed's 500 training images (stratified) and the fixed test split. */
export async function loadChapterData(
  seed: number,
  trainCount: number = ASKER_SETUP.trainCount,
): Promise<ChapterData> {
  const { train, test } = await loadMnist();
  const images = subset(train, { count: trainCount, seed });
  return {
    train: { ...images, name: `mnist/train, ${trainCount} images (seed ${seed})` },
    validation: test,
  };
}

/** The share of class 0 in a dataset: the accuracy of a model that predicts 0 for every image. */
export function classZeroShare(dataset: Dataset): number {
  let zeros = 0;
  for (const label of dataset.labels!) if (label === 0) zeros++;
  return zeros / dataset.count;
}
