/**
 * The fix: labels = the true one-hot labels (the one-line change), batches reshuffled every
 * epoch (the library's `train()`), and accuracy on the whole held-out validation and test
 * sets instead of one 32-image batch. Then the usual next step of fine-tuning: unfreeze the
 * last conv block and train it with the head (Adam 1e-4 still), against the
 * frozen head trained for the same extra epochs (so the difference is the unfreezing's).
 */
import type { Backend } from "../../lib/backend/backend.ts";
import type { Dataset } from "../../lib/data/dataset.ts";
import {
  Adam,
  Conv2d,
  evaluate,
  Flatten,
  type Layer,
  type Linear,
  MaxPool2d,
  ReLU,
  Sequential,
  SoftTargetCrossEntropy,
  train,
} from "../../lib/mod.ts";
import { TUTORIAL, tutorialHead } from "./reproduce.ts";

/** Accuracy on the whole validation and test sets. */
export interface HeldOut {
  validation: number;
  test: number;
}

export interface FixResult {
  /** The head after `fixEpochs` with true labels and reshuffled batches. */
  fixed: HeldOut;
  /** `unfreezeEpochs` more: the head alone (frozen base) and with block 2 unfrozen. */
  frozenMore: HeldOut;
  unfrozen: HeldOut;
}

/** The fix's loss: the same soft-target cross-entropy, given the true labels as one-hot rows. */
export const trueLabelLoss = () => new SoftTargetCrossEntropy({ stopGradientThroughLabels: true });

async function heldOut(model: Sequential, validation: Dataset, test: Dataset): Promise<HeldOut> {
  const loss = trueLabelLoss();
  return {
    validation: (await evaluate(model, loss, validation)).accuracy!,
    test: (await evaluate(model, loss, test)).accuracy!,
  };
}

/** Copy `from`'s parameter values into `to`'s (same shapes). */
function copyParameters(from: Layer, to: Layer, backend: Backend): void {
  const source = from.parameters();
  to.parameters().forEach((p, i) => backend.assign(p.value, source[i].value));
}

export async function runFix(options: {
  /** Features after block 2 (the head's inputs) and after block 1 (for unfreezing block 2). */
  features: { train: Dataset; validation: Dataset; test: Dataset };
  block1Features: { train: Dataset; validation: Dataset; test: Dataset };
  /** The pre-trained block 2 conv, whose weights the unfrozen run starts from. */
  pretrainedConv: Conv2d;
  fixEpochs: number;
  unfreezeEpochs: number;
  seed: number;
  backend: Backend;
}): Promise<FixResult> {
  const { features, block1Features, seed, backend } = options;
  const head = tutorialHead(features.train.features, seed, backend);
  const fit = (model: Sequential, data: Dataset, epochs: number, learningRate: number) =>
    train({
      model,
      loss: trueLabelLoss(),
      optimizer: new Adam({ learningRate }),
      train: data,
      epochs,
      batchSize: TUTORIAL.batchSize,
      seed,
      progress: "none",
    });
  await fit(head, features.train, options.fixEpochs, TUTORIAL.learningRate);
  const fixed = await heldOut(head, features.validation, features.test);

  // Block 2 unfrozen: conv → ReLU → pool → flatten → the fixed head, on block 1's output.
  const conv = new Conv2d(8, 16, 3, { padding: "same", imageSize: [14, 14], backend });
  copyParameters(options.pretrainedConv, conv, backend);
  const unfrozenHead = tutorialHead(features.train.features, seed, backend);
  copyParameters(head, unfrozenHead, backend);
  const unfrozen = new Sequential([
    conv,
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    ...unfrozenHead.layers as [Linear, ReLU, Linear],
  ]);
  await fit(head, features.train, options.unfreezeEpochs, TUTORIAL.learningRate);
  const frozenMore = await heldOut(head, features.validation, features.test);
  await fit(unfrozen, block1Features.train, options.unfreezeEpochs, TUTORIAL.learningRate);
  return {
    fixed,
    frozenMore,
    unfrozen: await heldOut(unfrozen, block1Features.validation, block1Features.test),
  };
}
