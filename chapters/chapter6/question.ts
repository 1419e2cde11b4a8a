/**
 * The question as the asker told it, the answer they got, and what this chapter adds (marked
 * as our assumption), for the task's opening lines. The notebook tells the same in prose.
 */
export const QUESTION = {
  asked: [
    "Fine-tuning the last layers of a pre-trained VGG-16 in TensorFlow (no Keras), following a",
    "cats-vs-dogs tutorial: the training accuracy printed every 50 iterations is stuck at",
    "50.00%, and the validation accuracy printed beside it forms a repeating pattern.",
  ],
  answered: [
    "The cross-entropy is given labels=y_pred, the model's own softmax; it should be y_true.",
    "Also: do not evaluate on the data you just trained on; and argmax(softmax(z)) = argmax(z),",
    "so the softmax before the argmax is not needed.",
  ],
  assumed: [
    "Ours: no package we can reach ships VGG-16's weights or cats and dogs, so a small CNN",
    "pre-trained on the 8 Fashion-MNIST classes other than Pullover and Coat stands in for",
    "VGG-16, and Pullover against Coat stands in for cats against dogs (Keras' own transfer",
    "example makes the same kind of substitution on MNIST). The bug does not depend on it: with",
    "labels = softmax(logits) the loss never looks at the true labels, whatever the base.",
    "The tutorial's loader (our assumption): images read alternately, one of each class, so",
    "every batch of 32 holds 16 of each; next_batch walks in that order and wraps around; the",
    "head is Linear(784 -> 64), ReLU, Linear(64 -> 2); the progress line shows the batch just",
    "trained on and one validation batch, whose batcher advances every iteration.",
  ],
};
