/**
 * The seed Keras script ported to rxfit: a small CNN on cat and dog photos in class folders.
 *
 *   node --conditions=@rxfit/source --import tsx examples/cats-vs-dogs/src/main.ts --data DIR
 *
 * DIR has Kaggle's layout: training_set/training_set/{cats,dogs}, test_set/test_set/{cats,dogs}.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describeRun, runSeedScript } from './seed-script.js';

const usage = `Usage: main.ts --data DIR [--epochs N] [--out DIR]

  --data DIR    Kaggle's layout: DIR/training_set/training_set/{cats,dogs}, DIR/test_set/test_set/{cats,dogs}
  --epochs N    at most N epochs (default 50)
  --out DIR     the run folder (default runs/cats-vs-dogs-<timestamp>); the same --out resumes a crashed run
  --help        print this help
`;

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    epochs: { type: 'string', default: '50' },
    out: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (values.help || values.data === undefined) {
  process.stdout.write(usage);
  process.exitCode = values.help ? 0 : 2;
} else {
  const epochs = Number(values.epochs);
  if (!Number.isInteger(epochs) || epochs < 1) throw new RangeError(`--epochs must be an integer >= 1, got ${values.epochs}`);
  const out = values.out ?? path.join('runs', `cats-vs-dogs-${new Date().toISOString().replace(/[:.]/g, '-')}`);
  const summary = await runSeedScript({
    trainDir: path.join(values.data, 'training_set', 'training_set'),
    testDir: path.join(values.data, 'test_set', 'test_set'),
    out,
    epochs,
  });
  process.stdout.write(describeRun(out, summary));
}
