import { DATA_TYPES, EventMessage, HParamsPluginDataMessage } from './proto.js';
import { frameRecord } from './record.js';

/** The version TensorBoard expects in the first record of an event file. */
export const FILE_VERSION = 'brain.Event:2';

/** A hyperparameter's value, as the hparams plugin stores it (`google.protobuf.Value`). */
export type HParamValue = number | string | boolean;

/** One summary value to write: a TF2 tensor summary and the plugin that shows it. */
export type SummaryValue =
  | { readonly kind: 'scalar'; readonly tag: string; readonly value: number }
  | {
      readonly kind: 'histogram';
      readonly tag: string;
      readonly buckets: readonly (readonly [number, number, number])[];
    }
  | { readonly kind: 'text'; readonly tag: string; readonly text: string }
  | {
      readonly kind: 'hparams';
      readonly hparams: Readonly<Record<string, HParamValue>>;
      readonly startTimeSecs: number;
      readonly groupName?: string;
    };

/** The tag of the hparams plugin's session start summary. */
export const SESSION_START_INFO_TAG = '_hparams_/session_start_info';

const noPluginContent = new Uint8Array(0);

function littleEndian(values: readonly number[], bytesPer: 4 | 8): Uint8Array {
  const bytes = new Uint8Array(values.length * bytesPer);
  const view = new DataView(bytes.buffer);
  values.forEach((value, i) => {
    if (bytesPer === 4) view.setFloat32(i * 4, value, true);
    else view.setFloat64(i * 8, value, true);
  });
  return bytes;
}

/** The `Summary.Value` of one summary, as `tf.summary.scalar/histogram/text` write it. */
function summaryValue(value: SummaryValue): Record<string, unknown> {
  const metadata = (plugin: string, content: Uint8Array = noPluginContent) => ({
    plugin_data: { plugin_name: plugin, content },
  });
  switch (value.kind) {
    case 'scalar':
      return {
        tag: value.tag,
        metadata: metadata('scalars'),
        tensor: {
          dtype: DATA_TYPES['DT_FLOAT'],
          tensor_shape: {},
          tensor_content: littleEndian([value.value], 4),
        },
      };
    case 'histogram':
      return {
        tag: value.tag,
        metadata: metadata('histograms'),
        tensor: {
          dtype: DATA_TYPES['DT_DOUBLE'],
          tensor_shape: { dim: [{ size: value.buckets.length }, { size: 3 }] },
          tensor_content: littleEndian(value.buckets.flat(), 8),
        },
      };
    case 'text':
      return {
        tag: value.tag,
        metadata: metadata('text'),
        tensor: {
          dtype: DATA_TYPES['DT_STRING'],
          tensor_shape: {},
          string_val: [new TextEncoder().encode(value.text)],
        },
      };
    case 'hparams': {
      const hparams = Object.fromEntries(
        Object.entries(value.hparams).map(([name, v]) => [
          name,
          typeof v === 'number'
            ? { number_value: v }
            : typeof v === 'string'
              ? { string_value: v }
              : { bool_value: v },
        ]),
      );
      const content = HParamsPluginDataMessage.encode(
        HParamsPluginDataMessage.fromObject({
          version: 0,
          session_start_info: {
            hparams,
            start_time_secs: value.startTimeSecs,
            ...(value.groupName === undefined ? {} : { group_name: value.groupName }),
          },
        }),
      ).finish();
      return {
        tag: SESSION_START_INFO_TAG,
        metadata: metadata('hparams', content),
        // The hparams plugin reads only the metadata; its summaries hold a float 0 (NULL_TENSOR).
        tensor: { dtype: DATA_TYPES['DT_FLOAT'], tensor_shape: {}, float_val: [0] },
      };
    }
  }
}

/**
 * The framed record of an `Event` holding one summary.
 *
 * ## Example
 * ```ts
 * import { summaryRecord } from '@rxfit/tensorboard';
 * const bytes = summaryRecord(Date.now() / 1000, 3, { kind: 'scalar', tag: 'epoch_loss', value: 0.25 });
 * ```
 * @param wallTime - Seconds since the Unix epoch.
 * @param step - The summary's step (an epoch, or a global batch count).
 * @param value - The summary.
 * @returns TFRecord bytes to append to an event file.
 */
export function summaryRecord(wallTime: number, step: number, value: SummaryValue): Uint8Array {
  const event = EventMessage.fromObject({
    wall_time: wallTime,
    step,
    summary: { value: [summaryValue(value)] },
  });
  return frameRecord(EventMessage.encode(event).finish());
}

/**
 * The first record of every event file: `file_version` (TensorBoard checks it) and the writer.
 * @param wallTime - Seconds since the Unix epoch.
 * @returns TFRecord bytes.
 */
export function fileVersionRecord(wallTime: number): Uint8Array {
  const event = EventMessage.fromObject({
    wall_time: wallTime,
    file_version: FILE_VERSION,
    source_metadata: { writer: 'rxfit' },
  });
  return frameRecord(EventMessage.encode(event).finish());
}
