/** The part of a `tf.io.WeightsManifestEntry` that fixes its size in bytes. */
export interface WeightSpecSize {
  readonly name?: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly quantization?: { readonly dtype?: string } | null;
}

const BYTES_PER_ELEMENT: Readonly<Record<string, number>> = {
  float32: 4,
  int32: 4,
  bool: 1,
  complex64: 8,
  uint8: 1,
  uint16: 2,
  float16: 2,
};

/**
 * The bytes a weight takes in a weights file (tfjs' binary layout, quantized ones included), so a
 * loader can check a file's size against its manifest before decoding it.
 *
 * ## Example
 * ```ts
 * import { weightSpecBytes } from '@rxfit/core/operator-kit';
 * weightSpecBytes({ name: 'dense/kernel', shape: [4, 3], dtype: 'float32' }); // 48
 * ```
 * @param spec - A manifest entry.
 * @returns The byte size, or `undefined` for `string` weights (their size is in the data).
 * @throws TypeError naming the weight when its shape or dtype is not valid.
 */
export function weightSpecBytes(spec: WeightSpecSize): number | undefined {
  const label = typeof spec?.name === 'string' ? `weight ${JSON.stringify(spec.name)}` : 'a weight';
  if (!Array.isArray(spec?.shape) || !spec.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    throw new TypeError(`${label} has no valid shape (got ${JSON.stringify(spec?.shape)})`);
  }
  if (spec.dtype === 'string' && spec.quantization == null) return undefined;
  const stored = spec.quantization?.dtype ?? spec.dtype;
  const per = BYTES_PER_ELEMENT[stored];
  if (per === undefined || !Object.hasOwn(BYTES_PER_ELEMENT, stored)) {
    throw new TypeError(`${label} has an unknown dtype ${JSON.stringify(stored)}`);
  }
  return spec.shape.reduce((n, d) => n * d, 1) * per;
}
