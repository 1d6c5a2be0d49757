import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels, useBestBackend } from '@rxfit/backend';
import {
  bitDifferences,
  compareWithCpu,
  int,
  on,
  pick,
  rng,
  values,
  withSpecials,
} from './oracle.js';

type Pad = 'valid' | 'same' | number | [[0, 0], [number, number], [number, number], [0, 0]];

before(async () => {
  const info = await useBestBackend({ env: {} });
  assert.equal(info.name, 'wasm');
});

/** A random conv configuration whose output is at least 1x1. */
function convCase(seed: number, opts: { depthwise: boolean; coChoices?: readonly number[] }) {
  const r = rng(seed);
  const kh = int(r, 1, 4);
  const kw = opts.depthwise ? kh : int(r, 1, 4);
  const s = int(r, 1, 3);
  const strides: [number, number] = opts.depthwise ? [s, s] : [s, int(r, 1, 3)];
  // Numeric pads only where tfjs-core computes their shapes right (square kernel, equal strides).
  const square = kh === kw && strides[0] === strides[1];
  const padKind = pick(
    r,
    square ? ['valid', 'same', 'explicit', 'number'] : ['valid', 'same', 'explicit'],
  );
  const pad: Pad =
    padKind === 'explicit'
      ? [
          [0, 0],
          [int(r, 0, 2), int(r, 0, 2)],
          [int(r, 0, 2), int(r, 0, 2)],
          [0, 0],
        ]
      : padKind === 'number'
        ? int(r, 1, 2)
        : (padKind as 'valid' | 'same');
  const b = int(r, 1, 3);
  const h = int(r, kh, 10);
  const w = int(r, kw, 10);
  const ci = int(r, 1, 9);
  const co = opts.coChoices
    ? pick(r, opts.coChoices)
    : opts.depthwise
      ? int(r, 1, 3)
      : int(r, 1, 5);
  return { r, b, h, w, ci, co, kh, kw, strides, pad };
}

function outShape(c: ReturnType<typeof convCase>, depthwise: boolean): number[] {
  return tf.backend_util.computeConv2DInfo(
    [c.b, c.h, c.w, c.ci],
    [c.kh, c.kw, c.ci, c.co],
    c.strides,
    1,
    c.pad,
    'floor',
    depthwise,
  ).outShape;
}

describe('wasm training kernels against the cpu backend (tf.grad, seeded random cases)', () => {
  test('Conv2DBackpropFilter and Conv2DBackpropInput: conv2d gradients', async () => {
    let worst = 0;
    for (let seed = 1; seed <= 24; seed++) {
      const c = convCase(seed, { depthwise: false });
      const x = values(c.r, [c.b, c.h, c.w, c.ci]);
      const f = values(c.r, [c.kh, c.kw, c.ci, c.co]);
      const dy = values(c.r, outShape(c, false));
      worst = Math.max(
        worst,
        await compareWithCpu(`conv2d seed ${seed} ${JSON.stringify(c)}`, () => {
          const g = tf.grads((xt: tf.Tensor, ft: tf.Tensor) =>
            tf.sum(
              tf.mul(
                tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.strides, c.pad),
                tf.tensor(dy, outShape(c, false)),
              ),
            ),
          );
          return g([
            tf.tensor4d(x, [c.b, c.h, c.w, c.ci]),
            tf.tensor4d(f, [c.kh, c.kw, c.ci, c.co]),
          ]);
        }),
      );
    }
    assert.ok(worst < 1e-4, `worst |diff| ${worst}`);
  });

  test('Conv2DBackpropFilter, native kernel (output channels a multiple of 4): seeded random shapes, strides and paddings', async () => {
    let worst = 0;
    for (let seed = 201; seed <= 230; seed++) {
      const c = convCase(seed, { depthwise: false, coChoices: [4, 8, 12, 16] });
      const x = values(c.r, [c.b, c.h, c.w, c.ci]);
      const dy = values(c.r, outShape(c, false));
      worst = Math.max(
        worst,
        await compareWithCpu(`native dW seed ${seed} ${JSON.stringify(c)}`, () => [
          tf
            .engine()
            .runKernel<tf.Tensor>(
              'Conv2DBackpropFilter',
              { x: tf.tensor4d(x, [c.b, c.h, c.w, c.ci]), dy: tf.tensor(dy, outShape(c, false)) },
              {
                strides: c.strides,
                pad: c.pad,
                dataFormat: 'NHWC',
                dimRoundingMode: undefined,
                filterShape: [c.kh, c.kw, c.ci, c.co],
              } as unknown as tf.NamedAttrMap,
            ),
        ]),
      );
    }
    assert.ok(worst < 1e-4, `worst |diff| ${worst}`);
  });

  test('Conv2D, native direct kernel (output channels a multiple of 16, up to 128 input channels; rows split across threads): forward and gradients, seeded random shapes, strides and paddings', async () => {
    let worst = 0;
    for (let seed = 251; seed <= 290; seed++) {
      const c = convCase(seed, { depthwise: false, coChoices: [16, 32, 48] });
      // Thin first layers (1-4 channels) and wider ones; 129 goes to the stock kernel.
      const ci = seed % 2 ? 1 + (seed % 4) : pick(c.r, [5, 8, 13, 32, 40, 64, 128, 129]);
      const x = values(c.r, [c.b, c.h, c.w, ci]);
      const f = values(c.r, [c.kh, c.kw, ci, c.co]);
      const os = tf.backend_util.computeConv2DInfo(
        [c.b, c.h, c.w, ci],
        [c.kh, c.kw, ci, c.co],
        c.strides,
        1,
        c.pad,
      ).outShape;
      const dy = values(c.r, os);
      worst = Math.max(
        worst,
        await compareWithCpu(`direct conv2d seed ${seed} ci ${ci} ${JSON.stringify(c)}`, () => {
          const conv = (xt: tf.Tensor, ft: tf.Tensor) =>
            tf.conv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.strides, c.pad);
          const xs = tf.tensor4d(x, [c.b, c.h, c.w, ci]);
          const fs = tf.tensor4d(f, [c.kh, c.kw, ci, c.co]);
          return [
            conv(xs, fs),
            ...tf.grads((xt: tf.Tensor, ft: tf.Tensor) =>
              tf.sum(tf.mul(conv(xt, ft), tf.tensor(dy, os))),
            )([xs, fs]),
          ];
        }),
      );
    }
    assert.ok(worst < 1e-4, `worst |diff| ${worst}`);
  });

  test('Conv2DBackpropFilter: first-layer shapes (3 input channels, larger images)', async () => {
    for (const [s, pad] of [
      [1, 'valid'],
      [2, 'same'],
      [3, 'valid'],
    ] as const) {
      const r = rng(100 + s);
      const shape = [2, 12, 11, 3];
      const x = values(r, shape);
      await compareWithCpu(`first layer s${s} ${pad}`, () =>
        tf.grads((ft: tf.Tensor) =>
          tf.sum(
            tf.square(
              tf.conv2d(
                tf.tensor4d(x, shape as [number, number, number, number]),
                ft as tf.Tensor4D,
                s,
                pad,
              ),
            ),
          ),
        )([tf.tensor4d(values(rng(7), [3, 3, 3, 8]), [3, 3, 3, 8])]),
      );
    }
  });

  test('Conv2DBackpropFilter: many input channels', async () => {
    for (const [s, pad] of [
      [1, 'valid'],
      [2, 'same'],
      [1, 'same'],
    ] as const) {
      const r = rng(150 + s);
      const shape: [number, number, number, number] = [2, 9, 8, 16];
      const x = values(r, shape);
      await compareWithCpu(`16 channels s${s} ${pad}`, () =>
        tf.grads((ft: tf.Tensor) =>
          tf.sum(tf.square(tf.conv2d(tf.tensor4d(x, shape), ft as tf.Tensor4D, s, pad))),
        )([tf.tensor4d(values(rng(8), [3, 3, 16, 4]), [3, 3, 16, 4])]),
      );
    }
  });

  test('conv2dTranspose (both conv backprops swap roles)', async () => {
    const r = rng(55);
    const x = values(r, [2, 5, 6, 4]);
    const f = values(r, [3, 3, 2, 4]);
    await compareWithCpu('conv2dTranspose', () =>
      tf.grads((xt: tf.Tensor, ft: tf.Tensor) =>
        tf.sum(
          tf.square(
            tf.conv2dTranspose(xt as tf.Tensor4D, ft as tf.Tensor4D, [2, 10, 12, 2], 2, 'same'),
          ),
        ),
      )([tf.tensor4d(x, [2, 5, 6, 4]), tf.tensor4d(f, [3, 3, 2, 4])]),
    );
  });

  test('DepthwiseConv2dNativeBackpropFilter and BackpropInput: depthwiseConv2d gradients', async () => {
    for (let seed = 201; seed <= 218; seed++) {
      const c = convCase(seed, { depthwise: true });
      const x = values(c.r, [c.b, c.h, c.w, c.ci]);
      const f = values(c.r, [c.kh, c.kw, c.ci, c.co]);
      const os = outShape(c, true);
      const dy = values(c.r, os);
      await compareWithCpu(`depthwise seed ${seed} ${JSON.stringify(c)}`, () =>
        tf.grads((xt: tf.Tensor, ft: tf.Tensor) =>
          tf.sum(
            tf.mul(
              tf.depthwiseConv2d(xt as tf.Tensor4D, ft as tf.Tensor4D, c.strides, c.pad as 'valid'),
              tf.tensor(dy, os),
            ),
          ),
        )([tf.tensor4d(x, [c.b, c.h, c.w, c.ci]), tf.tensor4d(f, [c.kh, c.kw, c.ci, c.co])]),
      );
    }
  });

  test('MaxPoolGrad: random windows, strides and paddings, inputs in [-1, 1]', async () => {
    for (let seed = 301; seed <= 330; seed++) {
      const r = rng(seed);
      const k: [number, number] = [int(r, 1, 4), int(r, 1, 4)];
      const s: [number, number] = seed % 3 === 0 ? k : [int(r, 1, 3), int(r, 1, 3)];
      const pad = pick(r, ['valid', 'same'] as const);
      const shape: [number, number, number, number] = [
        int(r, 1, 3),
        int(r, 4, 11),
        int(r, 4, 11),
        int(r, 1, 4),
      ];
      const x = values(r, shape);
      const os = tf.backend_util.computePool2DInfo(shape, k, s, 1, pad).outShape;
      const dy = values(r, os);
      await compareWithCpu(
        `maxPool seed ${seed} k${k.join('x')} s${s.join('x')} ${pad} ${shape.join('x')}`,
        () =>
          tf.grads((xt: tf.Tensor) =>
            tf.sum(tf.mul(tf.maxPool(xt as tf.Tensor4D, k, s, pad), tf.tensor(dy, os))),
          )([tf.tensor4d(x, shape)]),
      );
    }
  });

  test('MaxPoolGrad, native kernel (window = stride, no padding): channels 1-12, leftover rows and columns, ties', async () => {
    for (let seed = 361; seed <= 376; seed++) {
      const r = rng(seed);
      const k: [number, number] = [int(r, 1, 3), int(r, 1, 3)];
      const shape: [number, number, number, number] = [
        int(r, 1, 3),
        int(r, k[0], 9),
        int(r, k[1], 9),
        int(r, 1, 12),
      ];
      // Every other case quantised, so that windows hold equal maxima.
      const x = values(r, shape).map((v) => (seed % 2 ? Math.round(v * 2) / 2 : v));
      const os = tf.backend_util.computePool2DInfo(shape, k, k, 1, 'valid').outShape;
      const dy = values(r, os);
      await compareWithCpu(`tiled maxPool seed ${seed} k${k.join('x')} ${shape.join('x')}`, () =>
        tf.grads((xt: tf.Tensor) =>
          tf.sum(tf.mul(tf.maxPool(xt as tf.Tensor4D, k, k, 'valid'), tf.tensor(dy, os))),
        )([tf.tensor4d(x, shape)]),
      );
    }
  });

  test('MaxPoolGrad: numeric padding with floor, round and ceil rounding', async () => {
    const r = rng(350);
    // Only cases where the rounding does not add a window: when it does, the stock wasm forward
    // MaxPool returns garbage and tfjs-core's gradient drops dimRoundingMode (next test).
    for (const [k, s, pad, mode] of [
      [3, 2, 1, 'ceil'],
      [2, 2, 1, 'floor'],
      [3, 3, 1, 'round'],
    ] as const) {
      const shape: [number, number, number, number] = [2, 7, 7, 3];
      const x = values(r, shape);
      const os = tf.backend_util.computePool2DInfo(shape, k, s, 1, pad, mode).outShape;
      const dy = values(r, os);
      await compareWithCpu(`maxPool k${k} s${s} pad ${pad} ${mode}`, () =>
        tf.grads((xt: tf.Tensor) =>
          tf.sum(tf.mul(tf.maxPool(xt as tf.Tensor4D, k, s, pad, mode), tf.tensor(dy, os))),
        )([tf.tensor4d(x, shape)]),
      );
    }
  });

  test('MaxPoolGrad: ceil rounding that adds windows is a clear error, not a wrong gradient', async () => {
    await tf.setBackend('wasm');
    const x = tf.ones<tf.Rank.R4>([1, 7, 7, 1]);
    assert.throws(
      () => tf.grad((xt: tf.Tensor) => tf.sum(tf.maxPool(xt as tf.Tensor4D, 2, 2, 1, 'ceil')))(x),
      /MaxPoolGrad: the forward output \[1, 5, 5, 1\] does not match/,
    );
    x.dispose();
  });

  test('MaxPoolGrad: ties go to the first maximum, like cpu (ReLU zeros, quantised values)', async () => {
    const shape: [number, number, number, number] = [2, 8, 9, 3];
    const r = rng(401);
    const x = values(r, shape).map((v) => Math.round(v * 2) / 2); // many equal values
    for (const [k, s, pad] of [
      [2, 2, 'valid'],
      [3, 1, 'same'],
      [3, 2, 'same'],
      [2, 1, 'valid'],
    ] as const) {
      const os = tf.backend_util.computePool2DInfo(shape, k, s, 1, pad).outShape;
      const dy = values(r, os);
      for (const act of ['relu', 'none'] as const) {
        await compareWithCpu(`ties k${k} s${s} ${pad} ${act}`, () =>
          tf.grads((xt: tf.Tensor) => {
            const a = (act === 'relu' ? tf.relu(xt) : xt) as tf.Tensor4D;
            return tf.sum(tf.mul(tf.maxPool(a, k, s, pad), tf.tensor(dy, os)));
          })([tf.tensor4d(x, shape)]),
        );
      }
    }
  });

  test('UnsortedSegmentSum: duplicate and out-of-range ids; the gather gradient', async () => {
    for (let seed = 501; seed <= 510; seed++) {
      const r = rng(seed);
      const n = int(r, 1, 8);
      const rest = [int(r, 1, 4), int(r, 1, 3)];
      const segments = int(r, 1, 6);
      const ids = Array.from({ length: n }, () => int(r, -1, segments));
      const x = values(r, [n, ...rest]);
      await compareWithCpu(`unsortedSegmentSum seed ${seed} ids ${ids.join(',')}`, () => [
        tf.unsortedSegmentSum(tf.tensor(x, [n, ...rest]), tf.tensor1d(ids, 'int32'), segments),
      ]);
      const valid = ids.map((i) => Math.min(Math.max(i, 0), segments - 1));
      const table = values(r, [segments, 3]);
      await compareWithCpu(`gather grad seed ${seed}`, () =>
        tf.grads((t: tf.Tensor) => tf.sum(tf.square(tf.gather(t, tf.tensor1d(valid, 'int32')))))([
          tf.tensor2d(table, [segments, 3]),
        ]),
      );
    }
  });

  test('BatchMatMul with transpose flags (rank 2 and 3) and matMul gradients', async () => {
    const r = rng(601);
    for (const [ta, tb] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      for (const batch of [[], [3]]) {
        const m = int(r, 1, 6),
          k = int(r, 1, 6),
          n = int(r, 1, 6);
        const as = [...batch, ...(ta ? [k, m] : [m, k])];
        const bs = [...batch, ...(tb ? [n, k] : [k, n])];
        const a = values(r, as),
          b = values(r, bs);
        await compareWithCpu(`matMul ta=${ta} tb=${tb} batch=${batch.join('x')}`, () => [
          tf.matMul(tf.tensor(a, as), tf.tensor(b, bs), ta, tb),
          ...tf.grads((at: tf.Tensor, bt: tf.Tensor) =>
            tf.sum(tf.square(tf.matMul(at, bt, ta, tb))),
          )([tf.tensor(a, as), tf.tensor(b, bs)]),
        ]);
      }
    }
  });

  test('Sum over the image axes (fast path) and other axes (stock), keepDims, negative axes', async () => {
    const r = rng(801);
    for (const shape of [
      [2, 5, 7, 3],
      [3, 1, 1, 4],
      [1, 16, 9, 2],
      [2, 3, 4, 20],
      [1, 4, 3, 37],
    ] as const) {
      const x = values(r, shape);
      for (const axis of [[0, 1, 2], [1, 2], [2, 1], [-4, -3, -2], [3], [0], [0, 3]]) {
        for (const keepDims of [false, true]) {
          await compareWithCpu(
            `sum ${shape.join('x')} axis ${axis.join(',')} keepDims ${keepDims}`,
            () => [tf.sum(tf.tensor(x, [...shape]), axis, keepDims)],
          );
        }
      }
    }
    // Large enough to be split across threads (under the threaded binary).
    const big = [4, 30, 30, 8];
    const xb = values(r, big);
    await compareWithCpu('sum big', () => [tf.sum(tf.tensor(xb, big), [0, 1, 2])]);
    await compareWithCpu('sum big keepDims', () => [tf.sum(tf.tensor(xb, big), [0, 1, 2], true)]);
    await compareWithCpu('sum int32 (stock)', () => [
      tf.sum(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1], 'int32'), [0, 1, 2]),
    ]);
  });

  test('Step (native): alpha, zeros, signs, sizes with a scalar tail and one split across threads; NaN stays NaN', async () => {
    const r = rng(851);
    for (const size of [1, 7, 64, 70_001]) {
      const x = values(r, [size]).map((v, i) => (i % 5 === 0 ? 0 : v));
      for (const alpha of [0, 0.25, -1.5]) {
        await compareWithCpu(`step size ${size} alpha ${alpha}`, () => [
          tf.step(tf.tensor1d(x), alpha),
          tf.relu(tf.tensor1d(x)),
          ...tf.grads((t: tf.Tensor) => tf.sum(tf.relu(t)))([tf.tensor1d(x)]),
        ]);
      }
    }
    await tf.setBackend('wasm');
    const nan = tf.tensor1d([NaN, -1, 2, NaN, 0]);
    const stepped = tf.step(nan, 0.5);
    assert.deepEqual([...stepped.dataSync()], [NaN, 0.5, 1, NaN, 0.5]);
    tf.dispose([nan, stepped]);
  });

  test('Relu gradient (fused RxfitReluGrad on wasm): seeded random shapes, NaN, ±Inf, −0 and 0 in x and dy, bit for bit as cpu; a gradient of the gradient', async () => {
    const r = rng(861);
    const shapes = [[1], [7], [3, 5], [2, 9, 11, 3], [4, 64, 64, 16]];
    for (let k = 0; k < 6; k++)
      shapes.push([int(r, 1, 4), int(r, 1, 40), int(r, 1, 40), int(r, 1, 9)]);
    for (const shape of shapes) {
      const x = withSpecials(r, shape);
      const dy = withSpecials(r, shape);
      const f = () => [
        tf.grad((t: tf.Tensor) => tf.relu(t))(tf.tensor(x, shape), tf.tensor(dy, shape)),
      ];
      await tf.setBackend('wasm');
      const ids = tf.engine().backend.numDataIds();
      const [w] = await on('wasm', f);
      await tf.setBackend('wasm');
      assert.equal(
        tf.engine().backend.numDataIds(),
        ids,
        `${shape.join('x')}: wasm data ids leaked`,
      );
      const [c] = await on('cpu', f);
      assert.equal(
        bitDifferences(w!, c!),
        0,
        `relu gradient ${shape.join('x')}: values differ from cpu`,
      );
    }
    // d/d(dy) and d/dx of Σ w · relu'(x) · dy (the fused kernel's own gradient).
    const shape = [2, 6, 6, 3];
    const [x, dy, w] = [values(r, shape), values(r, shape), values(r, shape)];
    await compareWithCpu('relu gradient of gradient', () =>
      tf.grads((xt: tf.Tensor, dyt: tf.Tensor) =>
        tf.sum(tf.mul(tf.grad((t: tf.Tensor) => tf.relu(t))(xt, dyt), tf.tensor(w, shape))),
      )([tf.tensor(x, shape), tf.tensor(dy, shape)]),
    );
  });

  test("Relu gradient dispatch: RxfitReluGrad on wasm, tfjs' own gradient (Step, Multiply) on cpu and after registerWasmTrainingKernels({ native: false })", async () => {
    const kernelsOf = async (backend: string): Promise<string[]> => {
      await tf.setBackend(backend);
      const x = tf.tensor1d([-1, 0, 2, NaN]);
      const profile = await tf.profile(() => tf.grad((t: tf.Tensor) => tf.relu(t))(x));
      x.dispose();
      tf.dispose(profile.result);
      return profile.kernels.map((k) => k.name);
    };
    const fused = await kernelsOf('wasm');
    assert.ok(fused.includes('RxfitReluGrad') && !fused.includes('Step'), fused.join());
    const onCpu = await kernelsOf('cpu');
    assert.ok(onCpu.includes('Step') && onCpu.includes('Multiply'), onCpu.join());
    assert.ok(!onCpu.includes('RxfitReluGrad'), onCpu.join());
    try {
      assert.ok(!registerWasmTrainingKernels({ native: false }).includes('RxfitReluGrad'));
      const stock = tf.getGradient('Relu');
      assert.equal(tf.getKernel('RxfitReluGrad', 'wasm'), undefined);
      const plain = await kernelsOf('wasm');
      assert.ok(plain.includes('Step') && !plain.includes('RxfitReluGrad'), plain.join());
      registerWasmTrainingKernels();
      assert.notEqual(tf.getGradient('Relu'), stock);
      registerWasmTrainingKernels({ native: false });
      assert.equal(tf.getGradient('Relu'), stock, 'the same tfjs gradient back each time');
    } finally {
      registerWasmTrainingKernels();
    }
    assert.ok((await kernelsOf('wasm')).includes('RxfitReluGrad'));
    await tf.setBackend('wasm');
  });

  test('BatchMatMul, native skinny GEMM (m or k at most 64, n a multiple of 8): shapes, transposeA, K blocks, rank 3', async () => {
    const r = rng(871);
    for (const [m, k, n] of [
      [1, 7, 8],
      [3, 300, 16],
      [5, 1, 24],
      [32, 600, 128],
      [70, 32, 8],
      [600, 32, 16],
      [33, 513, 40],
    ] as const) {
      for (const ta of [false, true]) {
        const a = values(r, ta ? [k, m] : [m, k]);
        const b = values(r, [k, n]);
        await compareWithCpu(`gemm m${m} k${k} n${n} ta ${ta}`, () => [
          tf.matMul(tf.tensor2d(a, ta ? [k, m] : [m, k]), tf.tensor2d(b, [k, n]), ta, false),
          tf.matMul(tf.tensor3d(a, ta ? [1, k, m] : [1, m, k]), tf.tensor3d(b, [1, k, n]), ta),
        ]);
      }
    }
  });

  test('BatchMatMul computed transposed when the right operand is the big one (dense dx, dW)', async () => {
    const r = rng(650);
    for (const [as, bs, ta, tb] of [
      [[4, 8], [300, 8], false, true],
      [[8, 4], [300, 8], true, true],
      [[1, 4, 8], [1, 300, 8], false, true],
      [[8, 300], [8, 5], true, false],
      [[3, 200], [200, 400], false, false],
    ] as const) {
      const a = values(r, as),
        b = values(r, bs);
      await compareWithCpu(`matMul ${as.join('x')} ${bs.join('x')} ta=${ta} tb=${tb}`, () => [
        tf.matMul(tf.tensor(a, [...as]), tf.tensor(b, [...bs]), ta, tb),
      ]);
    }
  });

  test('_FusedMatMul (dense forward): swapped and flagged paths, bias, every activation, gradients', async () => {
    const r = rng(660);
    const activations = [
      'linear',
      'relu',
      'relu6',
      'elu',
      'sigmoid',
      'leakyrelu',
      'prelu',
    ] as const;
    const shapes = [
      [[4, 300], [300, 40], false, false], // weights much larger: swapped
      [[40, 30], [30, 5], false, false], // stock
      [[300, 4], [300, 40], true, false],
      [[4, 300], [40, 300], false, true],
      [[1, 4, 30], [1, 30, 20], false, false],
    ] as const;
    for (const [as, bs, ta, tb] of shapes) {
      for (const activation of activations) {
        const n = tb ? bs[bs.length - 2]! : bs[bs.length - 1]!;
        const a = values(r, as),
          b = values(r, bs),
          bias = values(r, [n]),
          alpha = values(r, [n]);
        await compareWithCpu(
          `fused matMul ${as.join('x')} ${bs.join('x')} ta=${ta} tb=${tb} ${activation}`,
          () => {
            const f = (at: tf.Tensor, bt: tf.Tensor, biasT: tf.Tensor) =>
              tf.fused.matMul({
                a: at,
                b: bt,
                transposeA: ta,
                transposeB: tb,
                bias: biasT,
                activation,
                leakyreluAlpha: 0.3,
                ...(activation === 'prelu' ? { preluActivationWeights: tf.tensor1d(alpha) } : {}),
              });
            const inputs = [tf.tensor(a, [...as]), tf.tensor(b, [...bs]), tf.tensor1d(bias)];
            // A linear loss keeps the gradients O(1), so float32 rounding stays far below the tolerance.
            const weight = tf.tensor(
              values(rng(661), [
                ...as.slice(0, -2),
                ta ? as[as.length - 1]! : as[as.length - 2]!,
                n,
              ]),
              [...as.slice(0, -2), ta ? as[as.length - 1]! : as[as.length - 2]!, n],
            );
            const grads =
              activation === 'linear' || activation === 'relu'
                ? tf.grads((x: tf.Tensor, y: tf.Tensor, z: tf.Tensor) =>
                    tf.sum(tf.mul(f(x, y, z), weight)),
                  )(inputs)
                : [];
            return [f(inputs[0]!, inputs[1]!, inputs[2]!), ...grads];
          },
        );
      }
    }
  });

  for (const co of [5, 8]) {
    test(`kernels called with bare TensorInfo inputs return the same data and keep no references (Conv2DBackpropFilter, ${co % 4 ? 'composed' : 'native'})`, async () => {
      await tf.setBackend('wasm');
      const r = rng(701);
      const x = tf.tensor4d(values(r, [2, 6, 6, 3]), [2, 6, 6, 3]);
      const dy = tf.tensor4d(values(r, [2, 4, 4, co]), [2, 4, 4, co]);
      const attrs = {
        strides: [1, 1],
        pad: 'valid',
        dataFormat: 'NHWC',
        dimRoundingMode: undefined,
        filterShape: [3, 3, 3, co],
      };
      const viaOp = tf
        .engine()
        .runKernel<tf.Tensor>(
          'Conv2DBackpropFilter',
          { x, dy },
          attrs as unknown as tf.NamedAttrMap,
        );
      const backend = tf.backend();
      const tensorsBefore = tf.memory().numTensors;
      const idsBefore = backend.numDataIds();
      const kernel = tf.getKernel('Conv2DBackpropFilter', 'wasm');
      assert.ok(kernel);
      const info = kernel.kernelFunc({
        inputs: {
          x: { dataId: x.dataId, shape: x.shape, dtype: x.dtype },
          dy: { dataId: dy.dataId, shape: dy.shape, dtype: dy.dtype },
        },
        backend,
        attrs: attrs as unknown as tf.NamedAttrMap,
      }) as tf.TensorInfo;
      assert.equal(tf.memory().numTensors, tensorsBefore);
      assert.equal(backend.numDataIds(), idsBefore + 1, 'exactly one new buffer: the result');
      const direct = tf.engine().makeTensorFromTensorInfo(info);
      assert.deepEqual(direct.dataSync(), viaOp.dataSync());
      tf.dispose([x, dy, viaOp, direct]);
      assert.equal(backend.numDataIds(), idsBefore - 3);
    });
  }

  test('Identity and same-dtype Cast share the buffer: the result keeps its values after the source is disposed, and no buffer is copied', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend();
    const x = tf.tensor2d([1, -2, 3, 4.5], [2, 2]);
    const ids = backend.numDataIds();
    const y = tf.clone(x);
    assert.equal(backend.numDataIds(), ids, 'no new buffer');
    x.dispose();
    assert.deepEqual([...y.dataSync()], [1, -2, 3, 4.5]);
    y.dispose();
    assert.equal(backend.numDataIds(), ids - 1, 'the shared buffer is freed with its last tensor');
    const w = tf.tensor2d([1, -2, 3, 4.5], [2, 2]);
    const z = tf.cast(w, 'float32');
    assert.equal(backend.numDataIds(), ids, 'a float32 to float32 cast shares too');
    w.dispose();
    assert.deepEqual([...z.dataSync()], [1, -2, 3, 4.5]);
    const n = tf.cast(z, 'int32');
    assert.deepEqual([...n.dataSync()], [1, -2, 3, 4], 'real conversions still convert');
    tf.dispose([z, n]);
    const strings = tf.tensor1d(['a', 'b'], 'string');
    const s = tf.clone(strings);
    assert.deepEqual(s.arraySync(), ['a', 'b']);
    tf.dispose([strings, s]);
  });

  test("dilation > 1 in a conv2d gradient fails with tfjs-core's clear error", async () => {
    await tf.setBackend('wasm');
    const x = tf.ones<tf.Rank.R4>([1, 6, 6, 1]);
    const f = tf.ones<tf.Rank.R4>([2, 2, 1, 1]);
    assert.throws(
      () =>
        tf.grad((ft: tf.Tensor) => tf.sum(tf.conv2d(x, ft as tf.Tensor4D, 1, 'valid', 'NHWC', 2)))(
          f,
        ),
      /dilation/i,
    );
    tf.dispose([x, f]);
  });
});
