/**
 * Datasets on the device: uploaded once per backend and reused by every epoch,
 * evaluation and prediction; a minibatch is a gather of rows by index.
 *
 * @module
 */
import type { Backend } from "../backend/backend.ts";
import type { Dataset } from "../data/dataset.ts";
import type { Loss } from "../losses.ts";
import { gatherRows, oneHot } from "../ops.ts";
import { keep, type Tensor } from "../tensor.ts";

/** A dataset's arrays as tensors on one backend. */
export interface DeviceDataset {
  inputs: Tensor;
  labels?: Tensor;
  targets?: Tensor;
}

const uploads = new WeakMap<Dataset, Map<Backend, DeviceDataset>>();

/** The dataset on `backend`, uploaded on first use (checked by validateDataset beforehand). */
export function upload(dataset: Dataset, backend: Backend): DeviceDataset {
  let perBackend = uploads.get(dataset);
  if (!perBackend) uploads.set(dataset, perBackend = new Map());
  let device = perBackend.get(backend);
  if (!device) {
    device = {
      inputs: keep(
        backend.fromValues(dataset.inputs, [dataset.count, dataset.features], "float32"),
      ),
      labels: dataset.labels
        ? keep(backend.fromValues(dataset.labels, [dataset.count], "float32"))
        : undefined,
      targets: dataset.targets
        ? keep(
          backend.fromValues(dataset.targets, [dataset.count, dataset.targetSize ?? 1], "float32"),
        )
        : undefined,
    };
    perBackend.set(backend, device);
  }
  return device;
}

/**
 * Free the copies of a dataset that training and evaluation uploaded to the
 * backends (they are kept for reuse). GPU memory is not garbage-collected, so
 * code that trains on many datasets in one process calls this when done with one.
 */
export function releaseUploads(dataset: Dataset): void {
  const perBackend = uploads.get(dataset);
  if (!perBackend) return;
  for (const device of perBackend.values()) {
    device.inputs.dispose();
    device.labels?.dispose();
    device.targets?.dispose();
  }
  uploads.delete(dataset);
}

/** The loss's target for a batch: class indices, one-hot rows, or regression targets. */
export function batchTarget(
  loss: Loss,
  device: DeviceDataset,
  dataset: Dataset,
  indices: Tensor,
): Tensor {
  if (loss.targetKind === "labels") return gatherRows(device.labels!, indices);
  if (device.targets) return gatherRows(device.targets, indices);
  return oneHot(gatherRows(device.labels!, indices), dataset.classes ?? 0);
}

/** start, start + 1, ..., end − 1 as float32 row indices. */
export function range(start: number, end: number): Float32Array {
  const out = new Float32Array(end - start);
  for (let i = 0; i < out.length; i++) out[i] = start + i;
  return out;
}
