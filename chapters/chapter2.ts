/**
 * Chapter 2: why does the training loss flatten? (6.98 -> 3.24, and the guess of zero weights)
 *
 * The question: an MNIST classifier with leaky-ReLU hidden layers, ten sigmoid outputs and
 * binary cross-entropy summed over them, trained by full-batch gradient descent. The loss
 * always started at 6.98 and always ended at 3.24, whatever the learning rate, depth, width or
 * activation. The answer: "it's the initialisation: zero weights are symmetric, use random
 * init". Zero weights are the answer's guess; the chapter tests it.
 *
 * 3.24 is Σ_k H(p_k) = 3.248, the loss of a network whose output biases alone learn, which
 * zero initialisation explains exactly; exact zeros start at 10 ln 2 = 6.93, not 6.98.
 *
 *   chapter2/question.ts   the asker's numbers, derived: 10 ln 2, Σ H(p_k), what 6.98 would take
 *   chapter2/network.ts    the networks, and one full-batch run
 *   chapter2/reproduce.ts  zero init with monitors, beside the ten-bias model
 *   chapter2/diagnose.ts   the sweep, symmetric sigmoid units, the decision table
 *   chapter2/fix.ts        He init on several seeds, softmax beside it
 *   chapter2/verdicts.ts   a verdict on each part of the answer, from the evidence
 *   chapter2/figures.ts    the figures
 *   chapter2/budgets.ts    BUDGETS = { full, smoke }
 *
 * `deno task chapter2` (this file) prints the story with its numbers and writes the figures.
 */
export * from "./chapter2/question.ts";
export * from "./chapter2/network.ts";
export * from "./chapter2/reproduce.ts";
export * from "./chapter2/diagnose.ts";
export * from "./chapter2/fix.ts";
export * from "./chapter2/verdicts.ts";
export * from "./chapter2/figures.ts";
export * from "./chapter2/budgets.ts";
import { BUDGETS, seedsFor } from "./chapter2/budgets.ts";
import {
  flatLossTable,
  monitorSummary,
  sweepConfigs,
  symmetryStudy,
  zeroInitSweep,
} from "./chapter2/diagnose.ts";
import {
  fixFigure,
  gradientNormFigure,
  hiddenUnitImages,
  plateauFigure,
  sweepFigure,
  symmetryDelayFigure,
} from "./chapter2/figures.ts";
import { compareOutputs, fix, formatRange, largestAccuracyDip, rangeOf } from "./chapter2/fix.ts";
import { describeConfig, loadChapterData, trainingSubset } from "./chapter2/network.ts";
import {
  ANSWER,
  ASKER_END_LOSS,
  ASKER_START_LOSS,
  binaryEntropy,
  classFrequencies,
  classFrequencyEntropy,
  datasetFrequencies,
  LN2,
  MNIST_60K_TRAIN_COUNTS,
  startingLossCandidates,
} from "./chapter2/question.ts";
import { reproduce } from "./chapter2/reproduce.ts";
import { answerVerdicts } from "./chapter2/verdicts.ts";

if (import.meta.main) {
  const { runChapter } = await import("./cli.ts");
  await runChapter(
    { number: 2, title: "Why does the training loss flatten? (6.98 -> 3.24)" },
    Deno.args,
    async ({ report, backend, seed }) => {
      const budget = BUDGETS.full;
      const seeds = seedsFor(budget, seed);
      const data = await loadChapterData({ trainCount: budget.trainCount });
      const frequencies = datasetFrequencies(data.train);
      const entropy = classFrequencyEntropy(frequencies);

      report.heading("1. The question");
      report.line(
        "MNIST MLP, leaky-ReLU hidden layers, sigmoid outputs, BCE summed over 10 outputs,",
      );
      report.line(
        `full-batch GD: the loss always starts at ${ASKER_START_LOSS} and ends at ${ASKER_END_LOSS}.`,
      );
      report.line(`The answer: "${ANSWER}". Zero weights are the answer's guess; we test it.`);
      report.table([
        ["exact zeros start at 10 ln 2", (10 * LN2).toFixed(4)],
        ["biases-only end: Σ_k H(p_k), our 8,000-digit split", entropy.toFixed(4)],
        [
          "  the same for MNIST's 60,000 training digits",
          classFrequencyEntropy(classFrequencies(MNIST_60K_TRAIN_COUNTS)).toFixed(4),
        ],
        ["  the same for 10 balanced classes: 10 H(0.1)", (10 * binaryEntropy(0.1)).toFixed(4)],
      ]);
      report.line("What the start would read under other setups:");
      const candidates = await startingLossCandidates(frequencies, backend);
      report.table(candidates.map((c) => [
        c.explanation,
        `${c.loss.toFixed(4)}${c.matchesAsker ? "  reads 6.98" : ""}`,
      ]));

      report.heading("2. Reproduce (zero init: no random draws, the same on every seed)");
      const reproduction = await reproduce(data, {
        seed,
        backend,
        steps: budget.reproductionSteps,
      });
      const { run } = reproduction;
      report.line(
        `${describeConfig(run.config)}, ${run.config.steps} steps on ${data.train.count} digits:`,
      );
      report.table([
        ["start loss", run.startLoss.toFixed(4)],
        [`loss after ${run.config.steps} steps`, run.finalLoss.toFixed(4)],
        ["gap to Σ H(p_k)", reproduction.plateauGap.toFixed(4)],
        [
          "largest |network loss − ten-bias loss|",
          reproduction.biasOnlyLargestDifference.toExponential(2),
        ],
        [
          "train / test accuracy (majority class)",
          `${run.trainAccuracy} / ${run.testAccuracy} (${reproduction.majority.frequency} / ${reproduction.testMajorityFrequency})`,
        ],
        ["classes predicted on the test digits", run.predictedClasses.join(", ")],
      ]);
      await report.figure("plateau", plateauFigure(reproduction));

      report.heading("3. Diagnose");
      const steps = [1, 30, 60, 90].filter((s) => s <= run.config.steps);
      report.line(
        `Monitors at steps ${steps.join(", ")} (gradient norms, loss − Σ H(p_k), unit spread):`,
      );
      for (const row of monitorSummary(reproduction.log, steps)) {
        report.line(
          "  " +
            Object.entries(row).map(([name, value]) =>
              `${name} ${Number.isInteger(value) ? value : value.toPrecision(4)}`
            ).join(", "),
        );
      }
      const sweepTrain = trainingSubset(data, budget.sweepTrainCount);
      const sweep = await zeroInitSweep(sweepTrain, data.test, {
        seed,
        backend,
        configs: sweepConfigs(budget.sweepStepsAtLearningRateOne),
      });
      report.line(
        `Sweep from zeros on ${sweep.trainCount} digits (Σ H(p_k) = ${
          sweep.classEntropy.toFixed(4)
        }):`,
      );
      report.table(sweep.entries.map((e) => [
        e.label,
        `${e.config.steps} steps, loss ${e.finalLoss.toFixed(4)}, gap ${
          e.plateauGap.toFixed(4)
        }, ` +
        `max |grad W| ${e.largestWeightGradientNorm}, ${e.distinctPredictions} class predicted`,
      ]));
      report.line(
        `Same learning rate, any architecture: curves differ by at most ${sweep.largestDifferenceAtEqualLearningRate}.`,
      );
      await report.figure("sweep", sweepFigure(sweep));

      const symmetryTrain = trainingSubset(data, budget.symmetryTrainCount);
      const study = await symmetryStudy(symmetryTrain, data.test, {
        seed,
        seeds,
        backend,
        steps: budget.symmetrySteps,
        checkpoints: budget.symmetryCheckpoints,
        glorotSteps: budget.glorotSteps,
      });
      report.line(
        `Sigmoid hidden units (f(0) = 1/2) from zeros on ${study.trainCount} digits ` +
          `(Σ H(p_k) = ${study.classEntropy.toFixed(4)}, majority ${study.majorityFrequency}):`,
      );
      report.table(study.checkpoints.map((c) => [
        `after ${c.step} steps`,
        `loss ${c.trainLoss.toFixed(4)} (gap ${c.plateauGap.toFixed(4)}), train accuracy ` +
        `${c.trainAccuracy}, test ${c.testAccuracy}, unit spread ${c.unitSpread}`,
      ]));
      report.table([
        ["loss first below Σ H(p_k) after", `${study.firstStepBelowPlateau ?? "never, in"} steps`],
        [
          "32 units vs collapsed to 1: largest output difference",
          study.collapsedLargestOutputDifference.toExponential(2),
        ],
        [
          `Glorot, ${study.glorotSteps} steps, seeds ${
            seeds.join(", ")
          }: unit spread / test accuracy`,
          `${formatRange(rangeOf(study.glorot.map((g) => g.unitSpread)), 4)} / ${
            formatRange(rangeOf(study.glorot.map((g) => g.testAccuracy)))
          }`,
        ],
      ]);
      await report.figure("symmetry-delay", symmetryDelayFigure(study));
      await report.figure("gradient-norms", gradientNormFigure(reproduction, study));
      await report.figure("hidden-units", await hiddenUnitImages(study));

      report.heading(`4. Fix (He init, seeds ${seeds.join(", ")})`);
      const fixed = await fix(data, { seeds, backend, steps: budget.fixSteps });
      report.table(fixed.seeds.map((s, i) => [
        `seed ${s}: test accuracy after ${fixed.steps} steps, sigmoid + BCE / softmax CE`,
        `${fixed.he[i].testAccuracy} / ${fixed.softmax[i].testAccuracy} (BCE loss ${
          fixed.he[i].finalLoss.toFixed(4)
        }; largest fall between steps ${largestAccuracyDip(fixed.he[i]).toFixed(4)} / ${
          largestAccuracyDip(fixed.softmax[i]).toFixed(4)
        })`,
      ]));
      const horizons = compareOutputs(fixed, budget.fixHorizons);
      report.line("Test accuracy across the seeds, step by step:");
      report.table(horizons.map((h) => [
        `step ${h.step}`,
        `sigmoid + BCE ${formatRange(h.sigmoid)}, softmax ${formatRange(h.softmax)}, ` +
        `softmax ahead in ${h.softmaxAhead} of ${h.seeds}`,
      ]));
      await report.figure("fix", fixFigure(fixed, reproduction));

      report.line(
        "Decision table (zero gradients? symmetric units? below the plateau? still falling?):",
      );
      const decisions = flatLossTable(reproduction, study, fixed);
      report.table(decisions.map((row) => [row.run, `${row.cause}: ${row.reason}`]));

      report.heading("5. Verdicts");
      const verdicts = answerVerdicts(reproduction, study, fixed);
      report.table(verdicts.map((v) => [`${v.claim}`, `${v.verdict.toUpperCase()}: ${v.reason}`]));

      return {
        seeds,
        startLoss: run.startLoss,
        tenLn2: 10 * LN2,
        classEntropy: entropy,
        finalLoss: run.finalLoss,
        plateauGap: reproduction.plateauGap,
        trainAccuracy: run.trainAccuracy,
        testAccuracy: run.testAccuracy,
        majorityFrequency: reproduction.majority.frequency,
        largestWeightGradientNorm: reproduction.largestWeightGradientNorm,
        sweepLargestGap: Math.max(...sweep.entries.map((e) => Math.abs(e.plateauGap))),
        symmetryCheckpoints: study.checkpoints,
        symmetryFirstStepBelowPlateau: study.firstStepBelowPlateau,
        glorot: study.glorot.map(({ seed, unitSpread, testAccuracy }) => ({
          seed,
          unitSpread,
          testAccuracy,
        })),
        heTestAccuracy: fixed.he.map((r) => r.testAccuracy),
        heLargestDip: fixed.he.map(largestAccuracyDip),
        softmaxLargestDip: fixed.softmax.map(largestAccuracyDip),
        softmaxTestAccuracy: fixed.softmax.map((r) => r.testAccuracy),
        horizons,
        decisions: decisions.map(({ run, cause }) => ({ run, cause })),
        verdicts: verdicts.map(({ claim, verdict }) => ({ claim, verdict })),
      };
    },
  );
}
