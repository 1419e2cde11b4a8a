/**
 * The data layer: real datasets (Fashion-MNIST, MNIST) with fixed train/test
 * splits and a binary cache, small synthetic sets, and pure transforms.
 *
 * ```ts
 * const { train, test } = await loadFashionMnist();
 * const { dataset: trainInputs, stats } = standardize(scaleToUnitRange(train));
 * const { dataset: testInputs } = standardize(scaleToUnitRange(test), { stats });
 * ```
 */
export type { Dataset } from "./dataset.ts";
export {
  FASHION_MNIST_CLASS_NAMES,
  FASHION_MNIST_SPLIT_SEED,
  FASHION_MNIST_TEST_COUNT,
  loadFashionMnist,
} from "./fashion_mnist.ts";
export { loadMnist, MNIST_SPLIT_SEED, MNIST_TEST_COUNT, MNIST_VALUE_OF_BYTE } from "./mnist.ts";
export {
  CACHE_FORMAT_VERSION,
  decodeImageCache,
  defaultCacheDir,
  encodeImageCache,
  type LoadOptions,
  type SourceImages,
} from "./cache.ts";
export {
  classCounts,
  oneHot,
  scaleToUnitRange,
  type StandardizationStats,
  standardize,
  subset,
  takeRows,
  trainTestSplit,
} from "./transforms.ts";
export { gaussianBlobs, regression1d, xorDataset } from "./synthetic.ts";
export {
  cachedPca,
  covariance,
  explainedVarianceRatio,
  fitPca,
  leadingEigenvectors,
  type PcaModel,
  projectPca,
  symmetricEigen,
} from "./pca.ts";
export {
  proportionalAllocation,
  seededRandom,
  shuffleInPlace,
  stratifiedSplitIndices,
} from "./split.ts";
