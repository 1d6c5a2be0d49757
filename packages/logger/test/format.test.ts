import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  formatBar,
  formatEta,
  formatTimePerUnit,
  formatValue,
  pyExponential,
  pyFixed,
} from '../src/format.js';

describe("Keras' number formats", () => {
  it("rounds like Python's %f: exact ties to even", () => {
    assert.equal(pyFixed(2.5, 0), '2');
    assert.equal(pyFixed(3.5, 0), '4');
    assert.equal(pyFixed(0.5, 0), '0');
    assert.equal(pyFixed(0.03125, 4), '0.0312'); // an exact binary tie
    assert.equal(pyFixed(0.03135, 4), '0.0314'); // not a tie in binary
    assert.equal(pyFixed(-1.25, 1), '-1.2');
    assert.equal(pyFixed(Number.NaN, 4), 'nan');
    assert.equal(pyFixed(-Infinity, 4), '-inf');
  });

  it("writes %e with Python's two-digit exponent", () => {
    assert.equal(pyExponential(0.0001, 4), '1.0000e-04');
    assert.equal(pyExponential(0, 4), '0.0000e+00');
    assert.equal(pyExponential(-2.5e-120, 4), '-2.5000e-120');
  });

  it('prints metric values with 4 decimals above 1e-3, else in scientific notation (Keras)', () => {
    assert.equal(formatValue(0.6877), '0.6877');
    assert.equal(formatValue(0.001), '0.0010', 'float32(0.001) is just above 1e-3, as in Keras');
    assert.equal(formatValue(0.0009), '9.0000e-04');
    assert.equal(formatValue(-0.0005), '-5.0000e-04');
    assert.equal(formatValue(-3), '-3.0000');
    assert.equal(formatValue(0), '0.0000e+00');
    assert.equal(formatValue(Number.POSITIVE_INFINITY), 'inf');
  });

  it("draws Keras' bar", () => {
    assert.equal(formatBar(250, 250, 30), '250/250 [==============================]');
    assert.equal(formatBar(1, 250, 30), '  1/250 [..............................]');
    assert.equal(formatBar(125, 250, 30), '125/250 [==============>...............]');
    assert.equal(formatBar(5, undefined, 30), '      5/Unknown');
    assert.equal(formatBar(12, 10, 30), '12/10 [==============================]', 'clamped');
  });

  it('formats durations as Keras', () => {
    assert.equal(formatTimePerUnit(0.131), ' 131ms/step');
    assert.equal(formatTimePerUnit(2.5), ' 2s/step');
    assert.equal(formatTimePerUnit(0), ' 0s/step');
    assert.equal(formatTimePerUnit(0.00042), ' 420us/step');
    assert.equal(formatEta(42.9), '42s');
    assert.equal(formatEta(125), '2:05');
    assert.equal(formatEta(3725), '1:02:05');
  });
});
