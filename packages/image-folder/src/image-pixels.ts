/**
 * An interleaved, row-major `[height, width, channels]` image.
 *
 * ## Example
 * ```ts
 * import type { ImagePixels } from '@rxfit/image-folder';
 * const black: ImagePixels = { data: new Uint8Array(4 * 4 * 3), height: 4, width: 4, channels: 3 };
 * ```
 */
export interface ImagePixels<D extends ArrayLike<number> = Uint8Array | Float32Array> {
  readonly data: D;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}
