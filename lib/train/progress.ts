/**
 * Progress on stderr: a bar redrawn in place in a terminal, or one line per
 * epoch elsewhere (a notebook, a log).
 *
 * @module
 */
import type { EpochRecord, ProgressMode } from "./types.ts";

const progressModes: readonly ProgressMode[] = ["auto", "bar", "epochs", "none"];

/** Draws training progress for one run. */
export class Progress {
  readonly mode: Exclude<ProgressMode, "auto">;
  #lastDraw = 0;

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
    // A line per epoch goes through console.error, which a notebook kernel also shows.
    if (this.mode === "bar") write("\r\x1b[2K" + parts.join("  ") + "\n");
    else console.error(parts.join("  "));
  }

  /** After a bar, end the line so that what follows starts on its own. */
  interrupted(): void {
    if (this.mode === "bar" && this.#lastDraw > 0) write("\r\x1b[2K");
    this.#lastDraw = 0;
  }

  done(): void {}
}

const encoder = new TextEncoder();
function write(text: string): void {
  Deno.stderr.writeSync(encoder.encode(text));
}
