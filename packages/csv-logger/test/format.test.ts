import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatRow, headerKeys, pythonFloat, rowCells } from '@rxfit/csv-logger';

describe("pythonFloat: Python's str(float), which Keras writes", () => {
  const table: [number, string][] = [
    [0, '0.0'],
    [-0, '-0.0'],
    [1, '1.0'],
    [-2, '-2.0'],
    [0.1, '0.1'],
    [0.5, '0.5'],
    [123.456, '123.456'],
    [0.0001, '0.0001'],
    [0.00012, '0.00012'],
    [0.00001, '1e-05'],
    [1.5e-7, '1.5e-07'],
    [9.048374180359595e-4, '0.0009048374180359595'],
    [0.10000000149011612, '0.10000000149011612'],
    [1e15, '1000000000000000.0'],
    [9999999999999998, '9999999999999998.0'],
    [1e16, '1e+16'],
    [1.2345678901234568e17, '1.2345678901234568e+17'],
    [1e100, '1e+100'],
    [5e-324, '5e-324'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [Number.NaN, 'nan'],
    [Number.POSITIVE_INFINITY, 'inf'],
    [Number.NEGATIVE_INFINITY, '-inf'],
  ];
  for (const [value, text] of table) {
    it(`${String(value)} → ${text}`, () => assert.equal(pythonFloat(value), text));
  }
});

describe('rowCells and headerKeys', () => {
  it('writes the epoch as an integer and NA for a missing key', () => {
    assert.deepEqual(rowCells(['epoch', 'loss', 'val_loss'], 3, { loss: 0.25 }), [
      '3',
      '0.25',
      'NA',
    ]);
  });
  it('a null (non-finite number after JSON) is NA', () => {
    assert.deepEqual(rowCells(['epoch', 'loss'], 0, { loss: null as unknown as number }), [
      '0',
      'NA',
    ]);
  });
  it('sorts the first epoch keys and adds announced val_ keys it lacks, as Keras', () => {
    assert.deepEqual(headerKeys({ lr: 1, loss: 1, acc: 1 }, []), ['acc', 'loss', 'lr']);
    assert.deepEqual(headerKeys({ loss: 1, lr: 1 }, ['val_loss', 'val_acc']), [
      'loss',
      'lr',
      'val_loss',
      'val_acc',
    ]);
    assert.deepEqual(headerKeys({ loss: 1, val_loss: 1 }, ['val_loss']), ['loss', 'val_loss']);
    assert.deepEqual(
      headerKeys({ b: 1, B: 1, a: 1, _x: 1 }, []),
      ['B', '_x', 'a', 'b'],
      'code-point order, as Python',
    );
  });
});

describe('formatRow: Python csv.excel quoting through fast-csv', () => {
  it('quotes only fields that need it, doubling quotes, and ends rows with \\r\\n', async () => {
    assert.equal(
      await formatRow(['0', 'a,b', 'say "hi"', 'x\ny', 'plain'], { separator: ',' }),
      '0,"a,b","say ""hi""","x\ny",plain\r\n',
    );
  });
  for (const separator of [']', '\\', ';', '\t', ' ', '-']) {
    it(`separator ${JSON.stringify(separator)}: a field holding it is quoted, others are not`, async () => {
      assert.equal(
        await formatRow(['0', `a${separator}b`, 'c'], { separator }),
        `0${separator}"a${separator}b"${separator}c\r\n`,
      );
    });
  }
  it('writes NA for a column named like an Object.prototype member that a row lacks', () => {
    assert.deepEqual(rowCells(['epoch', 'constructor', 'toString'], 1, { loss: 1 }), ['1', 'NA', 'NA']);
    const logs = JSON.parse('{"__proto__": 2}') as Record<string, number>;
    assert.deepEqual(rowCells(['epoch', '__proto__'], 0, logs), ['0', '2.0']);
  });
});
