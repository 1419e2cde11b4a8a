/**
 * Evaluation and prediction on a whole dataset, in batches, with the sums kept
 * on the device and read back once.
 *
 * @module
 */
import type { Dataset } from "../data/dataset.ts";
import { restoreTrainingModes, setTrainingMode } from "../layers/layer.ts";
import type { Sequential } from "../layers/sequential.ts";
import type { Loss } from "../losses.ts";
import { argmax, equal, gatherRows, scale, sum } from "../ops.ts";
import { keep, type Tensor, tidy } from "../tensor.ts";
import { batchTarget, range, upload } from "./device_data.ts";
import { checkModel, checkModelFitsLoss, positiveInteger, validateDataset } from "./validate.ts";

/** Number of correct predictions in the batch, [1] (argmax of the outputs against the labels). */
export function correctCount(output: Tensor, labels: Tensor): Tensor {
  return sum(equal(argmax(output), labels));
}

/** What `evaluate()` returns. */
export interface Evaluation {
  /** Mean loss per example. */
  loss: number;
  /** Fraction of examples whose argmax output equals the label (labelled data only). */
  accuracy?: number;
}

/** Mean loss (and accuracy, for labelled data) of the model on a whole dataset, in evaluation mode. */
export async function evaluate(
  model: Sequential,
  loss: Loss,
  dataset: Dataset,
  batchSize = 1000,
): Promise<Evaluation> {
  // Evaluation is always in evaluation mode (no dropout); the caller's modes come back after.
  const modes = setTrainingMode(model, false);
  try {
    return await evaluateInEvalMode(model, loss, dataset, batchSize);
  } finally {
    restoreTrainingModes(modes);
  }
}

async function evaluateInEvalMode(
  model: Sequential,
  loss: Loss,
  dataset: Dataset,
  batchSize: number,
): Promise<Evaluation> {
  checkModel("evaluate", model);
  const backend = model.parameters()[0]?.value.backend;
  if (!backend) throw new Error("evaluate: the model has no parameters");
  positiveInteger("evaluate", "batchSize", batchSize);
  validateDataset("evaluate", dataset, model, loss);
  checkModelFitsLoss("evaluate", model, loss);
  const device = upload(dataset, backend);
  const lossSum = keep(backend.zeros([1], "float32"));
  const correct = keep(backend.zeros([1], "float32"));
  for (let start = 0; start < dataset.count; start += batchSize) {
    const end = Math.min(start + batchSize, dataset.count);
    tidy(() => {
      const indices = backend.fromValues(range(start, end), [end - start], "float32");
      const output = model.forward(gatherRows(device.inputs, indices));
      const batchLoss = loss.forward(output, batchTarget(loss, device, dataset, indices));
      backend.addInPlace(lossSum, scale(batchLoss, end - start));
      if (device.labels) {
        backend.addInPlace(correct, correctCount(output, gatherRows(device.labels, indices)));
      }
    });
  }
  backend.flush();
  const [totalLoss] = await lossSum.data();
  const [totalCorrect] = await correct.data();
  lossSum.dispose();
  correct.dispose();
  return {
    loss: totalLoss / dataset.count,
    accuracy: dataset.labels ? totalCorrect / dataset.count : undefined,
  };
}

/** The model's outputs for every example of a dataset, read back: [count, outputs], in evaluation mode. */
export async function predict(
  model: Sequential,
  dataset: Dataset,
  batchSize = 1000,
): Promise<Float32Array[]> {
  const modes = setTrainingMode(model, false);
  try {
    return await predictInEvalMode(model, dataset, batchSize);
  } finally {
    restoreTrainingModes(modes);
  }
}

async function predictInEvalMode(
  model: Sequential,
  dataset: Dataset,
  batchSize: number,
): Promise<Float32Array[]> {
  checkModel("predict", model);
  const backend = model.parameters()[0]?.value.backend;
  if (!backend) throw new Error("predict: the model has no parameters");
  positiveInteger("predict", "batchSize", batchSize);
  validateDataset("predict", dataset, model);
  const device = upload(dataset, backend);
  const rows: Float32Array[] = [];
  for (let start = 0; start < dataset.count; start += batchSize) {
    const end = Math.min(start + batchSize, dataset.count);
    const output = tidy(() => {
      const indices = backend.fromValues(range(start, end), [end - start], "float32");
      return model.forward(gatherRows(device.inputs, indices));
    });
    const values = await output.data();
    output.dispose();
    const width = output.shape[1];
    for (let r = 0; r < end - start; r++) {
      rows.push(Float32Array.from(values.subarray(r * width, (r + 1) * width)));
    }
  }
  return rows;
}
