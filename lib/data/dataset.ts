/**
 * A dataset in memory: plain typed arrays, one example per row.
 *
 * Classification sets carry `labels` (a class index per example) and `classes`;
 * regression sets carry `targets` (`targetSize` floats per example). The training
 * loop turns a minibatch of either into tensors on whichever backend it runs.
 */
export interface Dataset {
  /** A short human name, e.g. "fashion-mnist/train". */
  name: string;
  /** `count * features` values, row-major. */
  inputs: Float32Array;
  /** How many examples (rows). */
  count: number;
  /** Values per example (columns). */
  features: number;
  /** Class index per example (classification). */
  labels?: Uint8Array;
  /** Number of classes (classification). */
  classes?: number;
  /** A name per class, in index order. */
  classNames?: string[];
  /** `count * targetSize` values (regression). */
  targets?: Float32Array;
  /** Targets per example (regression, multilabel). */
  targetSize?: number;
  /** Where the inputs' values lie, e.g. [0, 255] for raw pixels. */
  valueRange?: [number, number];
  /** For images: [height, width]. */
  imageShape?: [number, number];
}
