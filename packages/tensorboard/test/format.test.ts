import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeEventFile,
  fileVersionRecord,
  frameRecord,
  histogramBuckets,
  maskedCrc32c,
  readEventFile,
  readRecords,
  summaryRecord,
  type DecodedEventFile,
} from '@rxfit/tensorboard';

const FIXTURES = fileURLToPath(new URL('./fixtures/tensorflow/', import.meta.url));

interface ExpectedTag {
  plugin: string;
  dtype: string;
  shape: number[];
  points: { step: number; value: unknown }[];
}
type Expected = Record<string, Record<string, ExpectedTag>>;

async function expected(): Promise<Expected> {
  return JSON.parse(await readFile(join(FIXTURES, 'decoded.json'), 'utf8')) as Expected;
}

/** What decoded.json holds of a decoded file: no wall times. */
function comparable(decoded: DecodedEventFile): Record<string, ExpectedTag> {
  return Object.fromEntries(
    Object.entries(decoded).map(([tag, { plugin, dtype, shape, points }]) => [
      tag,
      { plugin, dtype, shape, points: points.map(({ step, value }) => ({ step, value })) },
    ]),
  );
}

describe('reading TensorFlow 2.21 event files', () => {
  it("decodes every reference file to the values of TensorBoard's own reader (decoded.json)", async () => {
    const reference = await expected();
    assert.equal(Object.keys(reference).length, 3);
    for (const [file, tags] of Object.entries(reference)) {
      const decoded = await readEventFile(join(FIXTURES, file));
      assert.deepEqual(comparable(decoded), tags, file);
    }
  });

  it('frames records byte for byte as TensorFlow does (length, masked CRC-32C, data, masked CRC-32C)', async () => {
    for (const folder of ['tf-summary', 'keras-callback/train', 'keras-callback/validation']) {
      const [name] = await readdir(join(FIXTURES, folder));
      const bytes = await readFile(join(FIXTURES, folder, name!));
      const { records, pendingBytes } = readRecords(bytes);
      assert.equal(pendingBytes, 0);
      assert.deepEqual(Buffer.concat(records.map(frameRecord)), bytes, folder);
    }
  });

  it('masks the CRC as TFRecord does', () => {
    // The CRC-32C check value of '123456789' is 0xe3069283; masked: rotate right 15, add 0xa282ead8.
    const crc = 0xe3069283;
    const masked = ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
    assert.equal(maskedCrc32c(new TextEncoder().encode('123456789')), masked);
  });

  it('reads a file that is being written: a cut last record is pending, not an error', async () => {
    const [name] = await readdir(join(FIXTURES, 'tf-summary'));
    const bytes = await readFile(join(FIXTURES, 'tf-summary', name!));
    const whole = readRecords(bytes).records.length;
    const cut = readRecords(bytes.subarray(0, bytes.length - 5));
    assert.equal(cut.records.length, whole - 1);
    assert.ok(cut.pendingBytes > 0);
    const corrupt = Buffer.from(bytes);
    corrupt[20] = corrupt[20]! ^ 0xff;
    assert.throws(() => readRecords(corrupt), /CRC of the record at byte 0 does not match/);
  });
});

describe('writing summaries as TensorFlow does', () => {
  it('a scalar, a histogram and a text summary are the same records as tf.summary writes', async () => {
    const [name] = await readdir(join(FIXTURES, 'tf-summary'));
    const bytes = await readFile(join(FIXTURES, 'tf-summary', name!));
    const tf = readRecords(bytes).records.map(frameRecord);
    const times = Object.values(decodeEventFile(bytes)).flatMap((tag) =>
      tag.points.map((p) => p.wallTime),
    );
    const [t0, t1, t2, t3, t4] = times; // epoch_loss ×3, hidden/kernel, stop_reason
    const ours = [
      fileVersionRecord(1796485658),
      summaryRecord(t0!, 0, { kind: 'scalar', tag: 'epoch_loss', value: 1 }),
      summaryRecord(t1!, 1, { kind: 'scalar', tag: 'epoch_loss', value: 0.5 }),
      summaryRecord(t2!, 2, { kind: 'scalar', tag: 'epoch_loss', value: 1 / 3 }),
      summaryRecord(t3!, 0, {
        kind: 'histogram',
        tag: 'hidden/kernel',
        buckets: histogramBuckets([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]),
      }),
      summaryRecord(t4!, 2, {
        kind: 'text',
        tag: 'stop_reason',
        text: 'val_loss did not improve for 3 epochs',
      }),
    ];
    // TensorFlow's own writer names itself; every summary record is byte-identical.
    assert.equal(ours.length, tf.length);
    for (let i = 1; i < tf.length; i++)
      assert.deepEqual(Buffer.from(ours[i]!), Buffer.from(tf[i]!), `record ${i}`);
    // The file-version record decodes the same way and carries rxfit as the writer.
    assert.deepEqual(
      comparable(decodeEventFile(Buffer.concat(ours))),
      (await expected())[`tf-summary/${name}`],
    );
  });

  it('histogram buckets follow tf.summary.histogram, including a weight whose values are all equal', async () => {
    const reference = await expected();
    const kerasTrain = Object.entries(reference).find(([file]) =>
      file.startsWith('keras-callback/train'),
    )![1];
    const bias = kerasTrain['sequential/out/bias/histogram']!.points[0]!.value as number[][];
    const value = bias[0]![0]!;
    assert.deepEqual(histogramBuckets(new Float32Array([value])), bias);
    assert.deepEqual(histogramBuckets([0, 1, 2, 3], 2), [
      [0, 1.5, 2],
      [1.5, 3, 2],
    ]);
    assert.deepEqual(histogramBuckets([]), []);
  });
});
