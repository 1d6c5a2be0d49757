import type { Random } from '@rxfit/core/operator-kit';

/**
 * The parameters of one image's augmentation, as Keras' `get_random_transform` returns them
 * (camelCase keys). `theta` and `shear` are in degrees; `tx` moves the content horizontally and
 * `ty` vertically, in pixels (Keras 3's axis convention: `tx` comes from `heightShiftRange`).
 *
 * ## Example
 * ```ts
 * import { IDENTITY_TRANSFORM, type TransformParams } from '@rxfit/image-folder/pipeline';
 * const p: TransformParams = { ...IDENTITY_TRANSFORM, theta: 30 };
 * ```
 */
export interface TransformParams {
  readonly theta: number;
  readonly tx: number;
  readonly ty: number;
  readonly shear: number;
  readonly zx: number;
  readonly zy: number;
  readonly flipHorizontal: boolean;
  readonly flipVertical: boolean;
  /** `null`: no channel shift. */
  readonly channelShiftIntensity: number | null;
  /** `null`: no brightness change. */
  readonly brightness: number | null;
}

/**
 * The transform that leaves an image unchanged.
 *
 * ## Example
 * ```ts
 * import { IDENTITY_TRANSFORM, applyTransform } from '@rxfit/image-folder/pipeline';
 * const same = applyTransform({ data: new Uint8Array(12), height: 2, width: 2, channels: 3 }, IDENTITY_TRANSFORM);
 * ```
 */
export const IDENTITY_TRANSFORM: TransformParams = Object.freeze({
  theta: 0,
  tx: 0,
  ty: 0,
  shear: 0,
  zx: 1,
  zy: 1,
  flipHorizontal: false,
  flipVertical: false,
  channelShiftIntensity: null,
  brightness: null,
});

/**
 * The random-augmentation settings `randomTransform` draws from (Keras' `ImageDataGenerator`
 * arguments, camelCase). A shift range is a fraction of the image size when below 1, pixels
 * otherwise; an integer ≥ 1 or an array means "pick one value and a random sign", as in Keras.
 *
 * ## Example
 * ```ts
 * import type { AugmentationSettings } from '@rxfit/image-folder/pipeline';
 * const s: AugmentationSettings = { rotationRange: 10, zoomRange: [0.8, 1.2], horizontalFlip: true };
 * ```
 */
export interface AugmentationSettings {
  readonly rotationRange?: number;
  readonly widthShiftRange?: number | readonly number[];
  readonly heightShiftRange?: number | readonly number[];
  readonly shearRange?: number;
  readonly zoomRange?: number | readonly [number, number];
  readonly channelShiftRange?: number;
  readonly horizontalFlip?: boolean;
  readonly verticalFlip?: boolean;
  readonly brightnessRange?: readonly [number, number] | null;
}

function uniform(rng: Random, lo: number, hi: number): number {
  return lo + (hi - lo) * rng();
}

function drawShift(rng: Random, range: number | readonly number[], size: number): number {
  let value: number;
  if (Array.isArray(range) || Number.isInteger(range)) {
    // Keras: np.random.choice(range) * np.random.choice([-1, 1]); an int n means {0, ..., n-1}.
    const list = range as readonly number[];
    const choices = Array.isArray(range) ? list.length : (range as number);
    const k = Math.floor(rng() * choices);
    const picked = Array.isArray(range) ? list[k]! : k;
    value = picked * (rng() < 0.5 ? -1 : 1);
  } else {
    const r = range as number;
    value = uniform(rng, -r, r);
  }
  const max = Array.isArray(range) ? Math.max(...(range as readonly number[])) : (range as number);
  return max < 1 ? value * size : value;
}

function isZero(range: number | readonly number[] | undefined): boolean {
  if (range === undefined) return true;
  if (Array.isArray(range)) return range.length === 0;
  return range === 0;
}

/**
 * Draws one image's augmentation parameters, in the order and with the distributions of Keras'
 * `ImageDataGenerator.get_random_transform`: theta, tx (from `heightShiftRange`, × height), ty
 * (from `widthShiftRange`, × width), shear, zx and zy (independent), horizontal flip and vertical
 * flip (p = 0.5 each, always drawn), channel shift, brightness.
 *
 * ## Example
 * ```ts
 * import { seededRandom } from '@rxfit/core/operator-kit';
 * import { randomTransform } from '@rxfit/image-folder/pipeline';
 * const p = randomTransform(seededRandom(1, 0, 0), { zoomRange: 0.2, horizontalFlip: true }, 64, 64);
 * ```
 *
 * @param rng - uniform [0, 1) source
 * @param settings - the augmentation ranges
 * @param height - image height (rows) the shifts are relative to
 * @param width - image width (columns)
 * @returns the parameters for {@link applyTransform}
 */
export function randomTransform(
  rng: Random,
  settings: AugmentationSettings,
  height: number,
  width: number,
): TransformParams {
  const rotation = settings.rotationRange ?? 0;
  const theta = rotation ? uniform(rng, -rotation, rotation) : 0;
  const tx = isZero(settings.heightShiftRange)
    ? 0
    : drawShift(rng, settings.heightShiftRange!, height);
  const ty = isZero(settings.widthShiftRange)
    ? 0
    : drawShift(rng, settings.widthShiftRange!, width);
  const shearRange = settings.shearRange ?? 0;
  const shear = shearRange ? uniform(rng, -shearRange, shearRange) : 0;
  const zoom = settings.zoomRange ?? 0;
  const [zlo, zhi] = typeof zoom === 'number' ? [1 - zoom, 1 + zoom] : zoom;
  let zx = 1;
  let zy = 1;
  if (!(zlo === 1 && zhi === 1)) {
    zx = uniform(rng, zlo, zhi);
    zy = uniform(rng, zlo, zhi);
  }
  const flipHorizontal = rng() < 0.5 && settings.horizontalFlip === true;
  const flipVertical = rng() < 0.5 && settings.verticalFlip === true;
  const shiftRange = settings.channelShiftRange ?? 0;
  const channelShiftIntensity = shiftRange ? uniform(rng, -shiftRange, shiftRange) : null;
  const b = settings.brightnessRange;
  const brightness = b ? uniform(rng, b[0], b[1]) : null;
  return {
    theta,
    tx,
    ty,
    shear,
    zx,
    zy,
    flipHorizontal,
    flipVertical,
    channelShiftIntensity,
    brightness,
  };
}
