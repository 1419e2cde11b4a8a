/**
 * The non-finite search: when a loss turns NaN or infinite, find the first
 * place it came from (a parameter, a layer's output in order, or the loss).
 * On WebGPU the loss is not read each step; a per-step flag is kept on the
 * device instead and searched at the end of the epoch.
 *
 * @module
 */
import type { Backend } from "../backend/backend.ts";
import type { Sequential } from "../layers/sequential.ts";
import type { Loss } from "../losses.ts";
import { isNonFinite, mul, oneHot, reshape } from "../ops.ts";
import type { Tensor } from "../tensor.ts";
import type { NonFiniteReport } from "./types.ts";

/** flags[index] = 1 if the loss is non-finite, without reading it back. */
export function markNonFinite(
  backend: Backend,
  flags: Tensor,
  loss: Tensor,
  index: number,
  length: number,
): void {
  const position = reshape(oneHot(backend.fromValues([index], [1], "float32"), length), [length]);
  backend.addInPlace(flags, mul(position, isNonFinite(loss)));
}

/**
 * Find the first place a non-finite value appears: a parameter, then each
 * layer's output in order, then the loss itself.
 */
export async function locateNonFinite(
  model: Sequential,
  loss: Loss,
  step: number,
  epoch: number,
  value: number,
  afterTheFact = false,
): Promise<NonFiniteReport> {
  const found = async (t: Tensor | null) => {
    if (!t || t.disposed) return 0;
    return countNonFinite(await t.data());
  };
  const note = afterTheFact
    ? " (found at the end of the epoch; the model's state is as it is now)"
    : "";
  for (const layer of model.layers) {
    for (const p of layer.parameters()) {
      const bad = await found(p.value);
      if (bad > 0) {
        return {
          step,
          epoch,
          where: `${p.name} (a parameter)`,
          detail: `${bad} of ${p.value.size} values are NaN or infinite: an earlier update ` +
            `overflowed; try a smaller learning rate${note}.`,
        };
      }
    }
    const bad = await found(layer.output);
    if (bad > 0 && layer.output) {
      return {
        step,
        epoch,
        where: `output of ${layer.name}`,
        detail: `${bad} of ${layer.output.size} values are NaN or infinite${note}.`,
      };
    }
  }
  const last = model.layers.at(-1)?.output;
  let largest = "";
  if (last && !last.disposed) {
    const values = await last.data();
    let magnitude = 0;
    for (const v of values) magnitude = Math.max(magnitude, Math.abs(v));
    largest = ` The largest |output| was ${magnitude.toPrecision(4)}.`;
  }
  return {
    step,
    epoch,
    where: `the loss (${loss.name})`,
    detail: `Every layer's output was finite but the loss was ${value}.${largest}${note}`,
  };
}

function countNonFinite(values: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i])) n++;
  return n;
}
