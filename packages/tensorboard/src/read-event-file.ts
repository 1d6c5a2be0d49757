import { readRegularFile } from '@rxfit/core/operator-kit';
import { DATA_TYPES, EventMessage } from './proto.js';
import { readRecords } from './record.js';

/** A summary's value as read back: a number, nested arrays of numbers, or strings. */
export type DecodedValue = number | string[] | DecodedArray;
/** Nested arrays of numbers (a tensor of rank ≥ 1). */
export type DecodedArray = readonly (number | DecodedArray)[];

/** One tag of an event file, as TensorBoard's `EventAccumulator` sees it. */
export interface DecodedTag {
  /** The plugin of the tag's first summary metadata (`scalars`, `histograms`, `text`, `hparams`, ...). */
  plugin: string;
  /** The tensor's dtype (`float32`, `float64`, `string`, ...). */
  dtype: string;
  /** The tensor's shape (`[]` for a scalar). */
  shape: number[];
  /** Every value of the tag, in file order. */
  points: { step: number; value: DecodedValue; wallTime: number }[];
}

/** Tag → what the file holds for it. */
export type DecodedEventFile = Record<string, DecodedTag>;

const DTYPE_NAMES: Readonly<Record<number, string>> = {
  [DATA_TYPES['DT_FLOAT']!]: 'float32',
  [DATA_TYPES['DT_DOUBLE']!]: 'float64',
  [DATA_TYPES['DT_INT32']!]: 'int32',
  [DATA_TYPES['DT_INT64']!]: 'int64',
  [DATA_TYPES['DT_STRING']!]: 'string',
  [DATA_TYPES['DT_BOOL']!]: 'bool',
};

interface TensorObject {
  dtype?: number;
  tensor_shape?: { dim?: { size?: number }[] };
  tensor_content?: Uint8Array;
  float_val?: number[];
  double_val?: number[];
  int_val?: number[];
  int64_val?: number[];
  bool_val?: boolean[];
  string_val?: Uint8Array[];
}

interface ValueObject {
  tag?: string;
  metadata?: { plugin_data?: { plugin_name?: string } };
  simple_value?: number;
  tensor?: TensorObject;
}

function flatValues(tensor: TensorObject, dtype: string, size: number): number[] | string[] {
  if (dtype === 'string')
    return (tensor.string_val ?? []).map((bytes) => new TextDecoder().decode(bytes));
  const content = tensor.tensor_content;
  if (content && content.length > 0) {
    const view = new DataView(content.buffer, content.byteOffset, content.byteLength);
    const read: Record<string, [number, (offset: number) => number]> = {
      float32: [4, (o) => view.getFloat32(o, true)],
      float64: [8, (o) => view.getFloat64(o, true)],
      int32: [4, (o) => view.getInt32(o, true)],
      int64: [8, (o) => Number(view.getBigInt64(o, true))],
      bool: [1, (o) => view.getUint8(o)],
    };
    const [bytes, get] = read[dtype] ?? [4, (o: number) => view.getFloat32(o, true)];
    return Array.from({ length: content.length / bytes }, (_, i) => get(i * bytes));
  }
  const list =
    tensor.float_val ??
    tensor.double_val ??
    tensor.int_val ??
    tensor.int64_val ??
    tensor.bool_val?.map(Number) ??
    [];
  // Version 0 tensors repeat a single listed value to fill the shape.
  return list.length === 1 && size > 1 ? new Array<number>(size).fill(list[0]!) : list.map(Number);
}

function nest(values: readonly number[], shape: readonly number[]): DecodedValue {
  if (shape.length === 0) return values[0] ?? NaN;
  const [first, ...rest] = shape;
  const stride = rest.reduce((a, b) => a * b, 1);
  return Array.from({ length: first! }, (_, i) =>
    rest.length === 0
      ? values[i]!
      : (nest(values.slice(i * stride, (i + 1) * stride), rest) as DecodedArray),
  );
}

/**
 * Decodes the bytes of an event file into its tags, as TensorBoard's reader does: TF2 tensor
 * summaries (and legacy `simple_value` scalars), each tag with the plugin of its first metadata,
 * its dtype and shape, and every `(step, value)`. A record cut off at the end of the file (a
 * writer is still writing it) is left out.
 *
 * ## Example
 * ```ts
 * import { decodeEventFile } from '@rxfit/tensorboard';
 * const tags = decodeEventFile(await readFile(path));
 * tags['epoch_loss']?.points.map((p) => [p.step, p.value]);
 * ```
 * @param bytes - The file's content.
 * @returns Tag → plugin, dtype, shape and points.
 * @throws Error when a record's CRC does not match or an `Event` does not decode.
 */
export function decodeEventFile(bytes: Uint8Array): DecodedEventFile {
  const tags: DecodedEventFile = {};
  for (const record of readRecords(bytes).records) {
    const event = EventMessage.toObject(EventMessage.decode(record), { longs: Number }) as {
      step?: number;
      wall_time?: number;
      summary?: { value?: ValueObject[] };
    };
    for (const value of event.summary?.value ?? []) {
      const tag = value.tag ?? '';
      const step = event.step ?? 0;
      const wallTime = event.wall_time ?? 0;
      let entry = tags[tag];
      if (value.tensor) {
        const dtype = DTYPE_NAMES[value.tensor.dtype ?? 0] ?? `dtype ${value.tensor.dtype ?? 0}`;
        const shape = (value.tensor.tensor_shape?.dim ?? []).map((dim) => dim.size ?? 0);
        const size = shape.reduce((a, b) => a * b, 1);
        const flat = flatValues(value.tensor, dtype, size);
        const decoded = dtype === 'string' ? (flat as string[]) : nest(flat as number[], shape);
        entry ??= {
          plugin: value.metadata?.plugin_data?.plugin_name ?? '',
          dtype,
          shape,
          points: [],
        };
        entry.points.push({ step, value: decoded, wallTime });
      } else if (value.simple_value !== undefined) {
        entry ??= { plugin: 'scalars', dtype: 'float32', shape: [], points: [] };
        entry.points.push({ step, value: value.simple_value, wallTime });
      } else {
        continue;
      }
      tags[tag] = entry;
    }
  }
  return tags;
}

/**
 * Reads an event file and decodes it with {@link decodeEventFile}.
 *
 * ## Example
 * ```ts
 * import { readEventFile } from '@rxfit/tensorboard';
 * const tags = await readEventFile('logs/train/events.out.tfevents.1796485658.host.1.0.v2');
 * ```
 * @param path - The event file.
 * @returns Tag → plugin, dtype, shape and points.
 * @throws Error naming the file when it cannot be read or decoded.
 */
export async function readEventFile(path: string): Promise<DecodedEventFile> {
  try {
    // A FIFO or a device at the path is refused before anything is read.
    const bytes = await readRegularFile(path);
    return decodeEventFile(bytes);
  } catch (error) {
    throw new Error(
      `readEventFile: ${path}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}
