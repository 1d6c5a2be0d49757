/**
 * Keras' `class_mode`: `binary` and `sparse` give the class index as float32 `[b]`, `categorical`
 * a float32 one-hot `[b, numClasses]`, `input` the image batch itself, `null` no labels.
 *
 * ## Example
 * ```ts
 * import type { ClassMode } from '@rxfit/image-folder';
 * const mode: ClassMode = 'binary';
 * ```
 */
export type ClassMode = 'binary' | 'categorical' | 'sparse' | 'input' | null;

/**
 * Float32 labels for the samples `classes[i]` of one batch.
 *
 * ## Example
 * ```ts
 * import { encodeLabels } from '@rxfit/image-folder/pipeline';
 * encodeLabels([0, 2], 'categorical', 3); // { data: Float32Array [1,0,0, 0,0,1], shape: [2, 3] }
 * ```
 *
 * @param classes - class index per sample
 * @param mode - `binary`, `sparse` or `categorical`
 * @param numClasses - number of classes (one-hot width)
 * @returns the label values and their shape
 */
export function encodeLabels(
  classes: ArrayLike<number>,
  mode: 'binary' | 'sparse' | 'categorical',
  numClasses: number,
): { data: Float32Array; shape: [number] | [number, number] } {
  const n = classes.length;
  if (mode === 'categorical') {
    const data = new Float32Array(n * numClasses);
    for (let i = 0; i < n; i++) data[i * numClasses + classes[i]!] = 1;
    return { data, shape: [n, numClasses] };
  }
  return { data: Float32Array.from(classes), shape: [n] };
}
