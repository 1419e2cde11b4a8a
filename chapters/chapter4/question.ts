/**
 * The question as the asker told it, and the answer they got. What the chapter adds (the data,
 * the activation, the optimiser) is marked as our assumption where it is used.
 */
export const QUESTION = [
  'The asker trained a [50, 500, 500, 5] network and asked: "why does the distribution of the',
  'biases in layer2 change so dramatically?" The layer-2 bias histogram shifted during training',
  "while layer 1's stayed put.",
];

export const ANSWER_TEXT = [
  "The answer: overfitting. The network has on the order of 6.25M weights (1,055 neurons); the",
  "last layer's biases alone can memorise the data; check the train and validation curves.",
];

export const ASSUMPTIONS = [
  "Our assumptions: the asker's data is unknown, so we use Fashion-MNIST classes 0-4 projected on",
  "50 principal components (unit variance each); the activation and optimiser are unknown, so we",
  "train sigmoid units with SGD (the setting that reproduces the picture) and compare ReLU, Adam",
  "and tanh; batches of 16.",
];
