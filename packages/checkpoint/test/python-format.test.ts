import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FormatKeyError, parseTemplate, pythonFormat } from '@rxfit/checkpoint';

interface Case {
  readonly value: number | 'inf' | '-inf';
  readonly neg0: boolean;
  readonly spec: string;
  readonly int: boolean;
  readonly out: string;
}

// Generated with CPython 3 (`format(value, spec)` for floats and ints); see the README for the script.
const cases = JSON.parse(
  readFileSync(new URL('./fixtures/python-format-cases.json', import.meta.url), 'utf8'),
) as readonly Case[];

const INTS = new Set(['epoch', 'batch']);

describe('pythonFormat', () => {
  it(`matches CPython's format() on ${cases.length} value/spec pairs (d, f, e, g, %, none, fill, sign, grouping)`, () => {
    const failures: string[] = [];
    for (const c of cases) {
      const value =
        c.value === 'inf' ? Infinity : c.value === '-inf' ? -Infinity : c.neg0 ? -0 : c.value;
      const out = pythonFormat(
        `{x:${c.spec}}`,
        { x: value },
        { ints: c.int ? new Set(['x']) : new Set() },
      );
      if (out !== c.out)
        failures.push(`format(${String(c.value)}, '${c.spec}'): want ${c.out}, got ${out}`);
    }
    assert.deepEqual(failures, []);
  });

  it('formats the filepaths of Keras ModelCheckpoint tests and docs', () => {
    // keras/src/callbacks/model_checkpoint_test.py cases 8a, 10a; docstring example.
    assert.equal(
      pythonFormat('checkpoint.epoch{epoch:02d}.keras', { epoch: 3 }, { ints: INTS }),
      'checkpoint.epoch03.keras',
    );
    assert.equal(
      pythonFormat(
        'checkpoint.epoch{epoch:02d}batch{batch:02d}.keras',
        { epoch: 5, batch: 2 },
        { ints: INTS },
      ),
      'checkpoint.epoch05batch02.keras',
    );
    assert.equal(
      pythonFormat(
        '{epoch:02d}-{val_loss:.2f}.keras',
        { epoch: 12, val_loss: 0.123456 },
        { ints: INTS },
      ),
      '12-0.12.keras',
    );
    // keras/src/callbacks/model_checkpoint_test.py test_model_checkpoint_loading/ plain `{epoch}`.
    assert.equal(pythonFormat('weights.{epoch}.h5', { epoch: 1 }, { ints: INTS }), 'weights.1.h5');
    // A float log without a spec prints Python's repr: 2 → '2.0', 1e-5 → '1e-05'.
    assert.equal(pythonFormat('{loss}-{lr}', { loss: 2, lr: 1e-5 }), '2.0-1e-05');
    assert.equal(pythonFormat('{{epoch}}-{epoch}', { epoch: 4 }, { ints: INTS }), '{epoch}-4');
    assert.equal(pythonFormat('{epoch!r:>4}', { epoch: 4 }, { ints: INTS }), '   4');
    assert.equal(pythonFormat('no fields', {}), 'no fields');
  });

  it('rounds ties to even on the exact binary value, as Python', () => {
    assert.equal(pythonFormat('{x:.2f}', { x: 0.125 }), '0.12');
    assert.equal(pythonFormat('{x:.2f}', { x: 0.375 }), '0.38');
    assert.equal(pythonFormat('{x:.1f}', { x: 0.25 }), '0.2');
    assert.equal(pythonFormat('{x:.2f}', { x: 1.005 }), '1.00'); // 1.005 is 1.00499999... in binary
    assert.equal(pythonFormat('{x:.0f}', { x: 2.5 }), '2');
  });

  it('a missing key raises a FormatKeyError naming the key and the available keys (Keras: KeyError)', () => {
    assert.throws(
      () => pythonFormat('ckpt-{val_acc:.2f}', { epoch: 1, loss: 0.5 }, { ints: INTS }),
      (error: unknown) =>
        error instanceof FormatKeyError &&
        error.key === 'val_acc' &&
        /no value for 'val_acc'/.test(error.message) &&
        /Available keys: epoch, loss/.test(error.message),
    );
  });

  it('rejects a spec that does not fit the value, as Python', () => {
    assert.throws(
      () => pythonFormat('{loss:d}', { loss: 0.5 }),
      /needs an integer, got 0.5 for 'loss'/,
    );
    assert.throws(
      () => pythonFormat('{epoch:.2d}', { epoch: 1 }, { ints: INTS }),
      /precision is not allowed/,
    );
    assert.throws(() => pythonFormat('{loss:s}', { loss: 0.5 }), /'s' does not apply to a number/);
  });

  it('rejects malformed templates with a SyntaxError naming the template', () => {
    assert.throws(() => parseTemplate('ckpt-{epoch'), SyntaxError);
    assert.throws(() => parseTemplate('ckpt-}'), /single '}'/);
    assert.throws(() => parseTemplate('ckpt-{}'), /positional field \{\} is not supported/);
    assert.throws(() => parseTemplate('ckpt-{0}'), /positional/);
    assert.throws(() => parseTemplate('ckpt-{a.b}'), /attribute or index/);
    assert.throws(() => parseTemplate('ckpt-{epoch:02q}'), /invalid format spec '02q'/);
    assert.throws(() => parseTemplate('ckpt-{epoch!x}'), /unknown conversion/);
    assert.throws(() => parseTemplate('ckpt-{x:{w}}'), /nested fields/);
  });
});
