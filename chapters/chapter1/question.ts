/**
 * The question as the asker told it, the answer they got, and what we add to run it.
 */

export const QUESTION =
  "I train a two-layer network on Fashion-MNIST (784 inputs, 128 ReLU units, 10 outputs) " +
  "with softmax cross-entropy, and I put a ReLU on the last layer too, before the softmax. " +
  "The loss falls epoch after epoch, but the accuracy curve does not learn.";

export const ANSWER = "Keep the last layer linear: no ReLU before the softmax.";

/** What the question does not say and we had to choose; each is our assumption, not the asker's. */
export const ASSUMPTIONS: readonly { what: string; choice: string; why: string }[] = [
  {
    what: "optimiser",
    choice: "Adam at 0.001 for the story run; Adam at 0.01 and plain SGD at 0.1 in the sweep",
    why: "Adam 0.001 is the common default; a from-scratch network is more often plain SGD",
  },
  {
    what: "initialisation",
    choice: "He-normal weights, zero biases",
    why: "the usual choice for ReLU layers",
  },
  {
    what: "batches and budget",
    choice: "batches of 64, two epochs",
    why: "enough for the loss to fall a long way",
  },
  {
    what: "data",
    choice: "the fixed 60,000 / 10,000 split, 10,000 of the 60,000 held out for validation",
    why: "balanced classes (1,000 per class in validation and test), pixels scaled to [0, 1]",
  },
  {
    what: "the accuracy code",
    choice: "either correct, or np.mean(predictions == labels) with labels of shape (N, 1)",
    why: "the question does not show it; the broadcast version is a common bug with this picture",
  },
];
