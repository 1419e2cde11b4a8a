/**
 * Convolutional benchmark: images per second training a LeNet-sized network
 * (conv 3x3 1->8 same, ReLU, pool 2, conv 3x3 8->16 same, ReLU, pool 2, dense
 * 784->10; about 1.7 MFLOP per image for forward and backward) on 28 x 28
 * synthetic images, batch 32, Adam, on each CPU backend that has the conv
 * kernels; beside PyTorch on the CPU on the same network when `python3 -c
 * "import torch"` works (Debian: apt-get install python3-torch), else it says so.
 *
 *   deno run --allow-run=python3,/usr/bin/python3 bench/conv_bench.ts [--seconds=S] [--no-torch]
 *
 * `python3` is tried first, then /usr/bin/python3 (where Debian's python3-torch lives when a
 * pyenv or venv python3 comes first on the PATH).
 *
 * @module
 */
import {
  Adam,
  type Backend,
  Conv2d,
  cpu,
  Flatten,
  Linear,
  MaxPool2d,
  Random,
  ReLU,
  Sequential,
  SoftmaxCrossEntropy,
  tidy,
  wasm,
} from "../lib/mod.ts";
import { gatherRows } from "../lib/ops.ts";

const args = new Map(
  Deno.args.map((a) => a.replace(/^--/, "").split("=") as [string, string | undefined]),
);
const seconds = Number(args.get("seconds") ?? 2);
const batchSize = 32;
/** Multiply-adds per image, forward: conv1 28·28·9·8, conv2 14·14·72·16, dense 784·10. */
const forwardMacs = 28 * 28 * 9 * 8 + 14 * 14 * 72 * 16 + 784 * 10;
/** Forward, then weight and input gradients (the first conv needs no input gradient). */
const trainFlopsPerImage = 2 * (3 * forwardMacs - 28 * 28 * 9 * 8);

export function lenet(backend: Backend, seed = 0): Sequential {
  const random = new Random(seed);
  return new Sequential([
    new Conv2d(1, 8, 3, { padding: "same", imageSize: [28, 28], random, backend }),
    new ReLU(),
    new MaxPool2d(2),
    new Conv2d(8, 16, 3, { padding: "same", random, backend }),
    new ReLU(),
    new MaxPool2d(2),
    new Flatten(),
    new Linear(784, 10, { random, backend }),
  ]);
}

async function imagesPerSecond(backend: Backend): Promise<number> {
  const model = lenet(backend);
  const random = new Random(1);
  const count = 256;
  const inputs = backend.fromValues(
    Float32Array.from({ length: count * 784 }, () => random.uniform()),
    [count, 784],
    "float32",
  );
  const labels = backend.fromValues(
    Float32Array.from({ length: count }, () => random.integer(10)),
    [count],
    "float32",
  );
  const loss = new SoftmaxCrossEntropy();
  const optimizer = new Adam({ learningRate: 1e-3 });
  const parameters = model.parameters();
  let images = 0, step = 0;
  const runStep = () => {
    tidy(() => {
      const start = (step++ * batchSize) % count;
      const rows = backend.fromValues(
        Float32Array.from({ length: batchSize }, (_, i) => start + i),
        [batchSize],
        "float32",
      );
      loss.forward(model.forward(gatherRows(inputs, rows)), gatherRows(labels, rows));
      model.backward(loss.backward());
      optimizer.step(parameters);
    });
    backend.flush();
  };
  for (let i = 0; i < 3; i++) runStep(); // warm-up: JIT and allocations
  await parameters[0].value.data();
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    runStep();
    images += batchSize;
  }
  await parameters[0].value.data();
  return images / ((performance.now() - started) / 1000);
}

const torchScript = `
import sys, time, torch
torch.manual_seed(0)
seconds = float(sys.argv[1]); threads = int(sys.argv[2])
torch.set_num_threads(threads)
model = torch.nn.Sequential(
    torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(8, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Flatten(), torch.nn.Linear(784, 10))
x = torch.rand(256, 1, 28, 28); y = torch.randint(0, 10, (256,))
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
loss_fn = torch.nn.CrossEntropyLoss()
def step(i):
    s = (i * 32) % 256
    opt.zero_grad(); loss_fn(model(x[s:s+32]), y[s:s+32]).backward(); opt.step()
for i in range(3): step(i)
n = 0; t = time.perf_counter()
while time.perf_counter() - t < seconds:
    step(n); n += 1
print(n * 32 / (time.perf_counter() - t), torch.__version__)
`;

async function torchImagesPerSecond(threads: number): Promise<string> {
  let result = "";
  for (const python of ["python3", "/usr/bin/python3"]) {
    result = await torchWith(python, threads);
    if (!result.startsWith("not measured")) return result;
  }
  return result;
}

async function torchWith(python: string, threads: number): Promise<string> {
  try {
    const output = await new Deno.Command(python, {
      args: ["-c", torchScript, String(seconds), String(threads)],
      stdout: "piped",
      stderr: "piped",
    }).output();
    if (!output.success) {
      const why = new TextDecoder().decode(output.stderr).trim().split("\n").at(-1);
      return `not measured: ${python}: ${why} (apt-get install python3-torch)`;
    }
    const [rate, version] = new TextDecoder().decode(output.stdout).trim().split(" ");
    return `${Number(rate).toFixed(0)} images/s (PyTorch ${version}, ${threads} thread${
      threads > 1 ? "s" : ""
    })`;
  } catch (error) {
    return `not measured: ${(error as Error).message}`;
  }
}

if (import.meta.main) await main();

async function main(): Promise<void> {
  console.log(
    `LeNet-sized CNN training, batch ${batchSize}, ${
      (trainFlopsPerImage / 1e6).toFixed(2)
    } MFLOP per image (${seconds} s per figure)`,
  );
  const backends: Backend[] = [cpu];
  try {
    const fast = wasm();
    if (fast.im2col && fast.col2im && fast.maxPool && fast.maxPoolBackward) backends.push(fast);
    else console.log("wasm: no conv kernels yet, not measured");
  } catch (error) {
    console.log(`wasm: unavailable (${(error as Error).message})`);
  }
  for (const backend of backends) {
    const rate = await imagesPerSecond(backend);
    console.log(
      `${backend.name.padEnd(6)} ${rate.toFixed(0).padStart(6)} images/s  ${
        (rate * trainFlopsPerImage / 1e9).toFixed(2)
      } GFLOP/s`,
    );
  }
  if (!args.has("no-torch")) {
    console.log(`torch  ${await torchImagesPerSecond(1)}`);
  }
}
