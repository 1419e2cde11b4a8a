/**
 * The doctor's live measurements against the step time (issue 12: under 10%). For two typical
 * recipes (a 4,000-row CSV-sized table through 64-64 relu units; 2,700 MNIST digits through
 * 784-128-10), it times epochs of plain training, epochs with the recipe runner's step hooks
 * (gradient norms and update ratios, read 4 times an epoch) and epochs with the in-code Doctor's
 * hooks (the largest logit every step, the rest every 10), rotating the order so that load from
 * other processes falls on all three. Because a difference of medians on a loaded machine is
 * noisy, it also clocks the time spent inside the hooks themselves, and the per-epoch
 * measurements the runner adds (loss and accuracies on a 256-row training sample and up to
 * 1,024 validation rows).
 *
 *   deno task bench:doctor            (--epochs=N, default 6 of each kind per recipe)
 */
import { cpu } from "../lib/backend/mod.ts";
import { buildModel, forLoss, loadRecipeData } from "../lib/doctor/build.ts";
import { parseRecipe } from "../lib/doctor/recipe.ts";
import { layerHooks, type LayerMeasure, measure, sample } from "../lib/doctor/run.ts";
import { Doctor } from "../lib/doctor/doctor.ts";
import { train } from "../lib/train/loop.ts";
import type { TrainingHook } from "../lib/train/types.ts";

const epochsArg = Deno.args.find((a) => a.startsWith("--epochs="));
const EPOCHS = epochsArg ? Number(epochsArg.slice("--epochs=".length)) : 6;

const RECIPES: Record<string, unknown>[] = [
  {
    name: "table: 4,000 rows x 20 features, 64-64-4 relu, adam, batch 32",
    task: "classification",
    data: {
      source: "synthetic",
      kind: "blobs",
      count: 5000,
      features: 20,
      classes: 4,
      noise: 1,
      validationSplit: 0.2,
      order: "shuffled",
    },
    model: [{ dense: 64, activation: "relu" }, { dense: 64, activation: "relu" }, {
      dense: 4,
      activation: "softmax",
    }],
    loss: "sparse_categorical_crossentropy",
    optimizer: { name: "adam" },
    epochs: 1,
    batchSize: 32,
  },
  {
    name: "MNIST: 2,700 digits, 784-128-10, adam, batch 32",
    task: "classification",
    data: { source: "mnist", trainCount: 3000, validationSplit: 0.1, inputScale: "unit" },
    model: [{ dense: 128, activation: "relu" }, { dense: 10, activation: "softmax" }],
    loss: "sparse_categorical_crossentropy",
    optimizer: { name: "adam" },
    epochs: 1,
    batchSize: 32,
  },
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

console.log(`doctor hooks against the step time, ${EPOCHS} epochs of each, cpu backend`);
console.log(
  "recipe | steps/epoch | plain ms/step | runner hooks ms/step (difference; time inside hooks) | " +
    "in-code Doctor hooks ms/step (same) | runner's epoch-end measures",
);
for (const json of RECIPES) {
  const recipe = parseRecipe(json);
  const data = await loadRecipeData(recipe);
  const built = buildModel(recipe, data, cpu);
  const trainSet = forLoss(data.train, built);
  const stepsPerEpoch = Math.ceil(data.train.count / recipe.batchSize);
  const every = Math.max(1, Math.floor(stepsPerEpoch / 4)); // as runRecipe does
  /** The same hooks, with the time spent inside them added to `clock.ms`. */
  const timed = (hooks: TrainingHook[], clock: { ms: number }): TrainingHook[] =>
    hooks.map((hook) => {
      const wrap = (fn?: (c: never) => void | Promise<void>) =>
        fn &&
        (async (context: never) => {
          const started = performance.now();
          await fn.call(hook, context);
          clock.ms += performance.now() - started;
        });
      return { beforeUpdate: wrap(hook.beforeUpdate), afterUpdate: wrap(hook.afterUpdate) };
    });
  const runnerClock = { ms: 0 }, doctorClock = { ms: 0 };
  const runnerHooks = timed(
    [layerHooks(built.model, every, new Map<string, LayerMeasure>())],
    runnerClock,
  );
  const doctor = new Doctor(built.model, built.loss, trainSet, {
    optimizer: built.optimizer,
    epochs: recipe.epochs,
    batchSize: recipe.batchSize,
  });
  const doctorHooks = timed(doctor.hooks(), doctorClock);
  const trainSample = sample(data.train);
  const validationSample = data.validation ? sample(data.validation, 1024) : undefined;
  const times = { plain: [] as number[], runner: [] as number[], doctor: [] as number[] };
  const measures: number[] = [];
  const epoch = async (hooks: TrainingHook[], seed: number) => {
    const started = performance.now();
    await train({
      model: built.model,
      loss: built.loss,
      optimizer: built.optimizer,
      train: trainSet,
      epochs: 1,
      batchSize: recipe.batchSize,
      seed,
      hooks,
      onNonFinite: "record",
      progress: "none",
    });
    return performance.now() - started;
  };
  await epoch([], 0); // warm-up: compilation and buffers
  const kinds = [["plain", []], ["runner", runnerHooks], ["doctor", doctorHooks]] as const;
  for (let i = 0; i < EPOCHS; i++) {
    // Rotate which goes first, so drift in the machine's load is shared.
    for (let j = 0; j < kinds.length; j++) {
      const [kind, hooks] = kinds[(i + j) % kinds.length];
      times[kind].push(await epoch([...hooks], i + 1));
    }
    const started = performance.now();
    await measure(built, recipe, trainSample);
    if (validationSample) await measure(built, recipe, validationSample);
    measures.push(performance.now() - started);
  }
  const p = median(times.plain), r = median(times.runner), d = median(times.doctor);
  const m = median(measures);
  const hookedEpochs = EPOCHS;
  const perStep = (ms: number) => (ms / stepsPerEpoch).toFixed(3);
  const share = (ms: number) => `${(100 * ms / p).toFixed(1)}%`;
  console.log(
    `${json.name} | ${stepsPerEpoch} | ${perStep(p)} | ` +
      `${perStep(r)} (${share(r - p)}; inside ${share(runnerClock.ms / hookedEpochs)}) | ` +
      `${perStep(d)} (${share(d - p)}; inside ${share(doctorClock.ms / hookedEpochs)}) | ` +
      `${m.toFixed(1)} ms = ${share(m)}`,
  );
}
