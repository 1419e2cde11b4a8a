/**
 * The question as the asker told it, the answer they got, and what this chapter adds (marked as
 * our assumption), for the task's opening lines. The notebook tells the same in prose.
 */
export const QUESTION = {
  asked: [
    "A small fully connected network trained on the mean squared error: the error stays high,",
    "and adding hidden layers does not change it. The asker suspects the loss is not convex",
    "(training stuck in a bad minimum) and asks: does the squared error depend on the number",
    "of hidden layers, and would more layers help?",
  ],
  answered: [
    "A checklist, with house prices as its example: normalise the inputs; initialise the",
    'weights well; pick the right output activation ("ReLU won\'t be a proper option"); mind',
    "label noise; check the capacity; the learning rate may be too small.",
  ],
  assumed: [
    "Ours: a 1-D problem whose noise we know (y = sin 2x + 0.3x + N(0, 0.1²)), so that the",
    "noise floor σ² = 0.01 is known; a recipe network (2 tanh layers of 16, Glorot, linear",
    "output, Adam 0.02, 1,000 full-batch steps) changed one thing at a time; plain SGD where a",
    "from-scratch network would use it.",
  ],
};
