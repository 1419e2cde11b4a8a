/**
 * Monitors: per-layer measurements taken through the training loop's hooks.
 *
 * They all write long-format rows { step, epoch, layer, metric, value } into a
 * MonitorLog, one row per measurement, which plots directly as a vega-lite
 * line chart coloured by layer. Each monitor reads values back from the
 * device, so it measures every `every` steps, not each step.
 *
 * Metrics:
 *   activation-mean, activation-std   of each layer's output on a fixed probe batch
 *   dead-fraction        ReLU / leaky-ReLU units whose input is ≤ 0 for every probe example
 *   saturated-fraction   sigmoid outputs outside [0.01, 0.99], tanh outputs outside [−0.99, 0.99]
 *   max-abs-output       the largest |value| of the last layer's output (the logits)
 *   gradient-norm, weight-norm   L2 norms per parameter
 *   update-ratio         ‖Δw‖ / ‖w‖ per parameter for the step (about 1e-3 is healthy, CS231n)
 */
import type { Dataset } from "./data/dataset.ts";
import type { Layer } from "./layers/layer.ts";
import type { Sequential } from "./layers/sequential.ts";
import { keep, type Tensor, tidy } from "./tensor.ts";
import type { StepContext, TrainingHook } from "./train/mod.ts";

/** One measurement: a metric of a layer (or parameter) at a step. */
export interface MonitorRow {
  /** The global step, 1-based. */
  step: number;
  /** The epoch, 1-based. */
  epoch: number;
  /** A layer name ("relu1") or a parameter name ("linear2.bias"). */
  layer: string;
  /** e.g. "dead-fraction" (the list is in the module comment). */
  metric: string;
  /** The measured value. */
  value: number;
}

/** A copy of a parameter's values at a step (for histograms over time). */
export interface Snapshot {
  /** The global step, 1-based. */
  step: number;
  /** The epoch, 1-based. */
  epoch: number;
  /** e.g. "linear1.weight". */
  parameter: string;
  /** The values, row-major. */
  values: Float32Array;
}

/** Where monitors write: long-format rows, and parameter snapshots. */
export class MonitorLog {
  /** Every measurement, in the order taken. */
  readonly rows: MonitorRow[] = [];
  /** Parameter snapshots, in the order taken. */
  readonly snapshots: Snapshot[] = [];

  /** Append one measurement. */
  add(row: MonitorRow): void {
    this.rows.push(row);
  }

  /** Rows of one metric, optionally of one layer. */
  select(metric: string, layer?: string): MonitorRow[] {
    return this.rows.filter((r) =>
      r.metric === metric && (layer === undefined || r.layer === layer)
    );
  }

  /** The latest value of a metric for a layer, or undefined. */
  last(metric: string, layer: string): number | undefined {
    return this.select(metric, layer).at(-1)?.value;
  }
}

/** Statistics of one layer's output on a batch. */
export interface LayerStatistics {
  /** The layer's name, e.g. "relu1". */
  layer: string;
  /** The layer's kind, e.g. "relu". */
  kind: string;
  /** Mean of the outputs. */
  mean: number;
  /** Standard deviation of the outputs. */
  std: number;
  /** ReLU-family layers: fraction of units that are off for every example. */
  deadFraction?: number;
  /** Sigmoid and tanh layers: fraction of outputs in the flat tails. */
  saturatedFraction?: number;
  /** The largest |output|. */
  maxAbs: number;
}

function statisticsOf(
  layer: Layer,
  input: Float32Array | Float64Array,
  output: Float32Array | Float64Array,
  width: number,
): LayerStatistics {
  let sum = 0, sumSquares = 0, maxAbs = 0;
  for (const v of output) {
    sum += v;
    sumSquares += v * v;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  const n = output.length;
  const mean = sum / n;
  const stats: LayerStatistics = {
    layer: layer.name,
    kind: layer.kind,
    mean,
    std: Math.sqrt(Math.max(0, sumSquares / n - mean * mean)),
    maxAbs,
  };
  if (layer.kind === "relu" || layer.kind === "leaky-relu") {
    // A unit is dead when its pre-activation is ≤ 0 for every example: its gradient is then 0 (or tiny).
    const rows = input.length / width;
    let dead = 0;
    for (let unit = 0; unit < width; unit++) {
      let alive = false;
      for (let r = 0; r < rows && !alive; r++) alive = input[r * width + unit] > 0;
      if (!alive) dead++;
    }
    stats.deadFraction = dead / width;
  }
  if (layer.kind === "sigmoid" || layer.kind === "tanh") {
    const [low, high] = layer.kind === "sigmoid" ? [0.01, 0.99] : [-0.99, 0.99];
    let saturated = 0;
    for (const v of output) if (v < low || v > high) saturated++;
    stats.saturatedFraction = saturated / n;
  }
  return stats;
}

/** Run a forward pass on a probe batch and measure every layer's output. */
export async function layerStatistics(
  model: Sequential,
  probe: Dataset | Tensor,
  count = 512,
): Promise<LayerStatistics[]> {
  const backend = model.parameters()[0].value.backend;
  const kept: { layer: Layer; input: Tensor; output: Tensor }[] = [];
  tidy(() => {
    let x: Tensor;
    if ("storage" in probe) {
      x = probe as Tensor;
    } else {
      const dataset = probe as Dataset;
      const n = Math.min(count, dataset.count);
      x = backend.fromValues(dataset.inputs.subarray(0, n * dataset.features), [
        n,
        dataset.features,
      ], "float32");
    }
    model.forward(x);
    for (const layer of model.layers) {
      // keep() would also take the caller's probe out of the caller's own scopes.
      const hold = (t: Tensor) => (t === probe ? t : keep(t));
      kept.push({ layer, input: hold(layer.input!), output: hold(layer.output!) });
    }
  });
  const result: LayerStatistics[] = [];
  for (const { layer, input, output } of kept) {
    const width = output.shape[output.rank - 1];
    result.push(statisticsOf(layer, await input.data(), await output.data(), width));
  }
  for (const { input, output } of kept) {
    // A layer's input is the previous layer's output: dispose each tensor once,
    // and never the caller's probe tensor.
    if (!input.disposed && input !== probe && !kept.some((k) => k.output === input)) {
      input.dispose();
    }
    if (output !== probe) output.dispose();
  }
  return result;
}

/** Every monitor's settings. */
export interface MonitorOptions {
  /** Where the rows go. */
  log: MonitorLog;
  /** Measure every this many steps (default 50). Step 1 is always measured. */
  every?: number;
}

function due(step: number, every: number): boolean {
  return step === 1 || step % every === 0;
}

/**
 * Activation statistics on a fixed probe batch (the first `count` examples of
 * `probe`), measured after the update every `every` steps.
 */
export function activationMonitor(
  probe: Dataset,
  options: MonitorOptions & { count?: number },
): TrainingHook {
  const { log, every = 50, count = 256 } = options;
  return {
    async afterUpdate(context: StepContext) {
      if (!due(context.step, every)) return;
      const stats = await layerStatistics(context.model as Sequential, probe, count);
      const last = stats.at(-1);
      for (const s of stats) {
        const row = (metric: string, value: number) =>
          log.add({ step: context.step, epoch: context.epoch, layer: s.layer, metric, value });
        row("activation-mean", s.mean);
        row("activation-std", s.std);
        if (s.deadFraction !== undefined) row("dead-fraction", s.deadFraction);
        if (s.saturatedFraction !== undefined) row("saturated-fraction", s.saturatedFraction);
        if (s === last) row("max-abs-output", s.maxAbs);
      }
    },
  };
}

function norm(values: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < values.length; i++) s += values[i] * values[i];
  return Math.sqrt(s);
}

/**
 * Gradient and weight norms per parameter, and the update:weight ratio
 * ‖w_after − w_before‖ / ‖w_before‖, every `every` steps.
 */
export function gradientMonitor(options: MonitorOptions): TrainingHook {
  const { log, every = 50 } = options;
  let before = new Map<string, Float32Array | Float64Array>();
  return {
    async beforeUpdate(context: StepContext) {
      before = new Map();
      if (!due(context.step, every)) return;
      for (const p of context.parameters) {
        const weights = await p.value.data();
        before.set(p.name, weights);
        const row = (metric: string, value: number) =>
          log.add({ step: context.step, epoch: context.epoch, layer: p.name, metric, value });
        row("weight-norm", norm(weights));
        row("gradient-norm", p.grad ? norm(await p.grad.data()) : 0);
      }
    },
    async afterUpdate(context: StepContext) {
      if (before.size === 0) return;
      for (const p of context.parameters) {
        const old = before.get(p.name)!;
        const now = await p.value.data();
        let change = 0;
        for (let i = 0; i < now.length; i++) change += (now[i] - old[i]) ** 2;
        const weightNorm = norm(old);
        log.add({
          step: context.step,
          epoch: context.epoch,
          layer: p.name,
          metric: "update-ratio",
          value: weightNorm === 0 ? (change === 0 ? 0 : Infinity) : Math.sqrt(change) / weightNorm,
        });
      }
    },
  };
}

/**
 * Copies of chosen parameters' values (e.g. ["linear2.bias"]) at the start and
 * after every epoch, for histograms over training. `everySteps` adds snapshots
 * within epochs.
 */
export function histogramMonitor(
  parameters: string[],
  options: { log: MonitorLog; everySteps?: number },
): TrainingHook {
  const { log, everySteps } = options;
  let lastStep = 0;
  let started = false;
  const capture = async (model: Layer, step: number, epoch: number) => {
    const all = model.parameters();
    for (const name of parameters) {
      const p = all.find((q) => q.name === name);
      if (!p) {
        throw new Error(
          `histogramMonitor: no parameter "${name}"; the model has ${
            all.map((q) => q.name).join(", ")
          }`,
        );
      }
      log.snapshots.push({
        step,
        epoch,
        parameter: name,
        values: Float32Array.from(await p.value.data()),
      });
    }
  };
  return {
    async beforeUpdate(context: StepContext) {
      if (!started) {
        started = true;
        await capture(context.model, 0, 0);
      }
    },
    async afterUpdate(context: StepContext) {
      lastStep = context.step;
      if (everySteps && context.step % everySteps === 0) {
        await capture(context.model, context.step, context.epoch);
      }
    },
    async onEpochEnd(record, model) {
      if (!everySteps || lastStep % everySteps !== 0) {
        await capture(model, record.steps, record.epoch);
      }
    },
  };
}

/** The rows of a monitor log that a training history's gather in one table, for plotting. */
export function rowsFor(
  log: MonitorLog,
  metric: string,
): { step: number; layer: string; value: number }[] {
  return log.select(metric).map(({ step, layer, value }) => ({ step, layer, value }));
}
