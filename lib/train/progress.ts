/**
 * Progress: a bar redrawn in place in a terminal (stderr), one line per epoch
 * in a log (stderr), and in a Jupyter notebook one line on the cell's normal
 * output that is rewritten in place each epoch, so that a run shows as a single
 * line (stderr would show as a pink, error-looking block, one line per epoch).
 *
 * The loss and accuracy it shows are the epoch's running means over the
 * training batches (the weights change as they are summed, as Keras reports).
 *
 * @module
 */
import type { EpochRecord, ProgressMode } from "./types.ts";

const progressModes: readonly ProgressMode[] = ["auto", "bar", "epochs", "none"];

/** Draws training progress for one run. */
export class Progress {
  readonly mode: Exclude<ProgressMode, "auto">;
  #lastDraw = 0;
  /** In a notebook: the display this run's line is written to and rewritten in. */
  readonly #notebook = jupyterKernel();
  readonly #displayId = `progress-${crypto.randomUUID()}`;
  #shown = false;

  constructor(mode: ProgressMode, readonly label: string, readonly epochs: number) {
    if (!progressModes.includes(mode)) {
      throw new Error(`train: progress must be one of ${progressModes.join(", ")}, got "${mode}"`);
    }
    this.mode = mode === "auto" ? (Deno.stderr.isTerminal() ? "bar" : "epochs") : mode;
  }

  step(epoch: number, done: number, total: number): void {
    if (this.mode !== "bar") return;
    const now = performance.now();
    if (now - this.#lastDraw < 100 && done < total) return;
    this.#lastDraw = now;
    const width = 24;
    const filled = Math.round((done / total) * width);
    const bar = "█".repeat(filled) + "·".repeat(width - filled);
    write(`\r${this.label} epoch ${epoch}/${this.epochs} ${bar} ${done}/${total}`);
  }

  epoch(record: EpochRecord): void {
    if (this.mode === "none") return;
    const parts = [
      `${this.label} epoch ${record.epoch}/${this.epochs}`,
      `loss ${record.trainLoss.toFixed(4)}`,
    ];
    if (record.trainAccuracy !== undefined) parts.push(`acc ${record.trainAccuracy.toFixed(4)}`);
    if (record.validationLoss !== undefined) {
      parts.push(`val loss ${record.validationLoss.toFixed(4)}`);
    }
    if (record.validationAccuracy !== undefined) {
      parts.push(`val acc ${record.validationAccuracy.toFixed(4)}`);
    }
    parts.push(`${record.seconds.toFixed(1)} s`);
    const line = parts.join("  ");
    if (this.mode === "bar") write("\r\x1b[2K" + line + "\n");
    else if (this.#notebook) {
      const text = `${line}   (training: running means over the epoch's batches)`;
      const type = this.#shown ? "update_display_data" : "display_data";
      this.#shown = true;
      // Fire and forget: the kernel sends messages in order, and a step must not wait on it.
      Promise.resolve(this.#notebook.broadcast(type, {
        data: { "text/plain": text },
        metadata: {},
        transient: { display_id: this.#displayId },
      })).catch(() => {});
    } else console.error(line);
  }

  /** After a bar, end the line so that what follows starts on its own. */
  interrupted(): void {
    if (this.mode === "bar" && this.#lastDraw > 0) write("\r\x1b[2K");
    this.#lastDraw = 0;
  }

  done(): void {}
}

/** `Deno.jupyter` exists only under `deno jupyter`; elsewhere reading it throws. */
function jupyterKernel(): typeof Deno.jupyter | undefined {
  try {
    return Deno.jupyter;
  } catch {
    return undefined;
  }
}

const encoder = new TextEncoder();
function write(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}
