import { checkOptions } from '@rxfit/core/operator-kit';
import { availableParallelism } from 'node:os';
import { randomInt } from 'node:crypto';
import type { FillMode } from './affine-transform.js';
import type { ColorMode } from './convert-color.js';
import type { ClassMode } from './encode-labels.js';
import type { AugmentationSettings } from './random-transform.js';
import type { Interpolation } from './resize-image.js';
import { DEFAULT_LIMIT_INPUT_PIXELS, DEFAULT_MAX_BATCH_PIXELS } from './image-header.js';

/**
 * Options of {@link imageFolder}: Keras' `ImageDataGenerator(...)` and `.flow_from_directory(...)`
 * arguments in one flat object (camelCase), plus loader settings. Every field is optional.
 *
 * ## Example
 * ```ts
 * import type { ImageFolderOptions } from '@rxfit/image-folder';
 * const o: ImageFolderOptions = { targetSize: [64, 64], classMode: 'binary', rescale: 1 / 255, zoomRange: 0.2 };
 * ```
 */
export interface ImageFolderOptions extends AugmentationSettings {
  /** `[height, width]` every image is resized to. @default [256, 256] */
  readonly targetSize?: readonly [number, number];
  /** @default 'rgb' */
  readonly colorMode?: ColorMode;
  /** Class folders in label order. @default every sub-folder, sorted */
  readonly classes?: readonly string[];
  /** @default 'categorical' */
  readonly classMode?: ClassMode;
  /** @default 32 */
  readonly batchSize?: number;
  /** Reshuffle every epoch. @default true */
  readonly shuffle?: boolean;
  /** Order and augmentation depend only on (seed, epoch). @default a random seed */
  readonly seed?: number;
  /** @default false */
  readonly followLinks?: boolean;
  /** File-name endings to list (lower case, no dot needed, matched like Keras). @default IMAGE_EXTENSIONS */
  readonly extensions?: readonly string[];
  /** @default 'nearest' */
  readonly interpolation?: Interpolation;
  /** Crop the centre to the target's aspect ratio before resizing (Keras' `keep_aspect_ratio`). @default false */
  readonly keepAspectRatio?: boolean;
  /** Fraction of each class reserved for validation, in (0, 1). @default 0 */
  readonly validationSplit?: number;
  /** Which side of `validationSplit` to load. @default all images */
  readonly subset?: 'training' | 'validation' | null;
  /** Multiplies every pixel after augmentation (`1 / 255`). @default none */
  readonly rescale?: number | null;
  /** @default 'nearest' */
  readonly fillMode?: FillMode;
  /** Fill value for `fillMode: 'constant'` (0–255 scale). @default 0 */
  readonly cval?: number;
  /** Batches loaded ahead while the model trains (at an epoch's end: the next epoch's first ones). @default 2 */
  readonly prefetch?: number;
  /** Worker threads for decoding bookkeeping, resize and augmentation; 0 = main thread. @default min(4, cores − 1), at least 1 */
  readonly workers?: number;
  /** Images decoded at once per batch. @default 4 */
  readonly concurrency?: number;
  /** Resize inside libvips (shrink-on-load): faster, not Keras-exact. @default false */
  readonly fastResize?: boolean;
  /**
   * Largest accepted image in pixels, checked from its header before decoding (decompression
   * bombs); `false` = no limit. @default 25000000 (25 megapixels)
   */
  readonly limitInputPixels?: number | false;
  /**
   * Source pixels one batch decodes at the same time: images that do not fit wait for others to
   * finish, so a batch's decode memory stays bounded; `false` = no bound. @default 25000000
   */
  readonly maxBatchPixels?: number | false;
  /** What to do with an image that cannot be decoded. @default 'error' */
  readonly onInvalidImage?: 'error' | 'skip';
  /** Accept class folders without images, as Keras does. @default false */
  readonly allowEmptyClasses?: boolean;
  /** Receives `Found N images belonging to K classes.` and, without `onWarning`, warnings. */
  readonly logger?: (line: string) => void;
  /** Receives warnings (skipped images, suspicious settings). @default logger, else process.emitWarning */
  readonly onWarning?: (message: string) => void;
}

/**
 * {@link ImageFolderOptions} with defaults filled in and every value checked.
 *
 * ## Example
 * ```ts
 * import { resolveOptions, type ResolvedOptions } from '@rxfit/image-folder';
 * const r: ResolvedOptions = resolveOptions({ targetSize: [64, 64] });
 * ```
 */
export type ResolvedOptions = Required<
  Omit<
    ImageFolderOptions,
    'classes' | 'extensions' | 'logger' | 'onWarning' | 'brightnessRange' | 'rescale'
  >
> & {
  readonly classes: readonly string[] | undefined;
  readonly extensions: readonly string[] | undefined;
  readonly brightnessRange: readonly [number, number] | null;
  readonly rescale: number | null;
  readonly logger: ((line: string) => void) | undefined;
  readonly onWarning: ((message: string) => void) | undefined;
};

const show = (v: unknown): string => {
  try {
    return typeof v === 'string' ? `'${v}'` : (JSON.stringify(v) ?? String(v));
  } catch {
    return String(v);
  }
};

function finite(
  name: string,
  v: unknown,
  lo = -Infinity,
  hi = Infinity,
  what = 'a finite number',
): number {
  if (typeof v !== 'number' || Number.isNaN(v))
    throw new TypeError(`imageFolder: ${name} must be ${what}, got ${show(v)}`);
  if (!Number.isFinite(v) || v < lo || v > hi)
    throw new RangeError(`imageFolder: ${name} must be ${what}, got ${show(v)}`);
  return v;
}

function integer(name: string, v: unknown, lo: number, what: string): number {
  if (typeof v !== 'number')
    throw new TypeError(`imageFolder: ${name} must be ${what}, got ${show(v)}`);
  if (!Number.isSafeInteger(v) || v < lo)
    throw new RangeError(`imageFolder: ${name} must be ${what}, got ${show(v)}`);
  return v;
}

function oneOf<T>(name: string, v: unknown, allowed: readonly T[]): T {
  if (!allowed.includes(v as T)) {
    const list = allowed.map(show).join(', ');
    const err = typeof v === 'string' || v === null ? RangeError : TypeError;
    throw new err(`imageFolder: ${name} must be one of ${list}, got ${show(v)}`);
  }
  return v as T;
}

function bool(name: string, v: unknown): boolean {
  if (typeof v !== 'boolean')
    throw new TypeError(`imageFolder: ${name} must be true or false, got ${show(v)}`);
  return v;
}

function shiftRange(name: string, v: unknown): number | readonly number[] {
  if (Array.isArray(v)) {
    v.forEach((x, i) => finite(`${name}[${i}]`, x));
    return Object.freeze([...(v as number[])]);
  }
  return finite(
    name,
    v,
    0,
    Infinity,
    'a number ≥ 0 (a fraction below 1, pixels from 1) or an array of numbers',
  );
}

function pair(name: string, v: unknown, lo: number, what: string): readonly [number, number] {
  if (!Array.isArray(v) || v.length !== 2)
    throw new TypeError(`imageFolder: ${name} must be ${what}, got ${show(v)}`);
  const a = finite(`${name}[0]`, v[0], lo, Infinity, what);
  const b = finite(`${name}[1]`, v[1], lo, Infinity, what);
  if (a > b)
    throw new RangeError(`imageFolder: ${name} must be ${what} with lo ≤ hi, got ${show(v)}`);
  return Object.freeze<[number, number]>([a, b]);
}

function fn(name: string, v: unknown): ((arg: string) => void) | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'function')
    throw new TypeError(`imageFolder: ${name} must be a function, got ${show(v)}`);
  return v as (arg: string) => void;
}

const KNOWN = new Set([
  'targetSize',
  'colorMode',
  'classes',
  'extensions',
  'classMode',
  'batchSize',
  'shuffle',
  'seed',
  'followLinks',
  'interpolation',
  'keepAspectRatio',
  'validationSplit',
  'subset',
  'rescale',
  'rotationRange',
  'widthShiftRange',
  'heightShiftRange',
  'shearRange',
  'zoomRange',
  'channelShiftRange',
  'horizontalFlip',
  'verticalFlip',
  'brightnessRange',
  'fillMode',
  'cval',
  'prefetch',
  'workers',
  'concurrency',
  'fastResize',
  'limitInputPixels',
  'maxBatchPixels',
  'onInvalidImage',
  'allowEmptyClasses',
  'logger',
  'onWarning',
]);

/**
 * Checks {@link ImageFolderOptions} and fills in the defaults. Pure except for drawing a random
 * seed when none is given.
 *
 * ## Example
 * ```ts
 * import { resolveOptions } from '@rxfit/image-folder';
 * resolveOptions({ batchSize: 0 }); // throws RangeError: imageFolder: batchSize must be an integer ≥ 1, got 0
 * ```
 *
 * @param options - what the caller passed
 * @returns the complete, validated options
 * @throws TypeError for a value of the wrong type or an unknown option, RangeError for one out of range
 */
export function resolveOptions(options: ImageFolderOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null)
    throw new TypeError(`imageFolder: options must be an object, got ${show(options)}`);
  checkOptions('imageFolder', options, [...KNOWN]);
  const o = options;
  const targetSize = o.targetSize ?? [256, 256];
  if (!Array.isArray(targetSize) || targetSize.length !== 2) {
    throw new TypeError(`imageFolder: targetSize must be [height, width], got ${show(targetSize)}`);
  }
  integer('targetSize[0] (height)', targetSize[0], 1, 'an integer ≥ 1');
  integer('targetSize[1] (width)', targetSize[1], 1, 'an integer ≥ 1');
  const colorMode = oneOf('colorMode', o.colorMode ?? 'rgb', ['rgb', 'grayscale', 'rgba'] as const);
  let classes: readonly string[] | undefined;
  if (o.classes !== undefined) {
    const list: unknown = o.classes;
    if (!Array.isArray(list) || list.some((c) => typeof c !== 'string' || c === '')) {
      throw new TypeError(
        `imageFolder: classes must be an array of folder names, got ${show(o.classes)}`,
      );
    }
    if (new Set(o.classes).size !== o.classes.length)
      throw new RangeError(`imageFolder: classes has duplicates: ${show(o.classes)}`);
    if (o.classes.length === 0)
      throw new RangeError('imageFolder: classes must list at least one folder, got []');
    classes = Object.freeze([...(list as string[])]);
  }
  let extensions: readonly string[] | undefined;
  if (o.extensions !== undefined) {
    const list: unknown = o.extensions;
    if (
      !Array.isArray(list) ||
      list.length === 0 ||
      list.some((e) => typeof e !== 'string' || e === '')
    ) {
      throw new TypeError(
        `imageFolder: extensions must be a non-empty array of file endings such as 'png', got ${show(list)}`,
      );
    }
    extensions = Object.freeze((list as string[]).map((e) => e.toLowerCase()));
  }
  const classMode = oneOf('classMode', o.classMode === undefined ? 'categorical' : o.classMode, [
    'binary',
    'categorical',
    'sparse',
    'input',
    null,
  ] as const);
  const validationSplit = finite(
    'validationSplit',
    o.validationSplit ?? 0,
    0,
    Infinity,
    'a number in [0, 1)',
  );
  if (validationSplit >= 1)
    throw new RangeError(
      `imageFolder: validationSplit must be a number in [0, 1), got ${validationSplit}`,
    );
  const subset = oneOf('subset', o.subset ?? null, ['training', 'validation', null] as const);
  if (subset !== null && validationSplit === 0) {
    throw new RangeError(
      `imageFolder: subset '${subset}' needs validationSplit in (0, 1), got validationSplit ${validationSplit}`,
    );
  }
  const rescale =
    o.rescale === undefined || o.rescale === null ? null : finite('rescale', o.rescale);
  const zoom = o.zoomRange ?? 0;
  const zoomRange =
    typeof zoom === 'number'
      ? finite('zoomRange', zoom, 0, Infinity, 'a number ≥ 0 or [lo, hi] with 0 < lo ≤ hi')
      : pair('zoomRange', zoom, 0, 'a number ≥ 0 or [lo, hi] with 0 < lo ≤ hi');
  const brightnessRange =
    o.brightnessRange === undefined || o.brightnessRange === null
      ? null
      : pair('brightnessRange', o.brightnessRange, 0, '[lo, hi] with 0 ≤ lo ≤ hi');
  const cores = availableParallelism();
  const fastResize = bool('fastResize', o.fastResize ?? false);
  const interpolation = oneOf('interpolation', o.interpolation ?? 'nearest', [
    'nearest',
    'bilinear',
    'bicubic',
    'hamming',
    'box',
    'lanczos',
  ] as const);
  if (fastResize && (interpolation === 'hamming' || interpolation === 'box')) {
    throw new RangeError(
      `imageFolder: fastResize supports interpolation 'nearest', 'bilinear', 'bicubic' or 'lanczos', got '${interpolation}'`,
    );
  }
  const limit = o.limitInputPixels ?? DEFAULT_LIMIT_INPUT_PIXELS;
  const batchPixels = o.maxBatchPixels ?? DEFAULT_MAX_BATCH_PIXELS;
  return {
    targetSize: Object.freeze<[number, number]>([targetSize[0], targetSize[1]]),
    colorMode,
    classes,
    extensions,
    classMode,
    batchSize: integer('batchSize', o.batchSize ?? 32, 1, 'an integer ≥ 1'),
    shuffle: bool('shuffle', o.shuffle ?? true),
    seed:
      o.seed === undefined
        ? randomInt(0, 2 ** 32)
        : integer('seed', o.seed, 0, 'a non-negative safe integer'),
    followLinks: bool('followLinks', o.followLinks ?? false),
    interpolation,
    keepAspectRatio: bool('keepAspectRatio', o.keepAspectRatio ?? false),
    validationSplit,
    subset,
    rescale,
    rotationRange: finite(
      'rotationRange',
      o.rotationRange ?? 0,
      0,
      Infinity,
      'a number of degrees ≥ 0',
    ),
    widthShiftRange: shiftRange('widthShiftRange', o.widthShiftRange ?? 0),
    heightShiftRange: shiftRange('heightShiftRange', o.heightShiftRange ?? 0),
    shearRange: finite('shearRange', o.shearRange ?? 0, 0, Infinity, 'a number of degrees ≥ 0'),
    zoomRange,
    channelShiftRange: finite(
      'channelShiftRange',
      o.channelShiftRange ?? 0,
      0,
      Infinity,
      'a number ≥ 0',
    ),
    horizontalFlip: bool('horizontalFlip', o.horizontalFlip ?? false),
    verticalFlip: bool('verticalFlip', o.verticalFlip ?? false),
    brightnessRange,
    fillMode: oneOf('fillMode', o.fillMode ?? 'nearest', [
      'nearest',
      'constant',
      'reflect',
      'wrap',
    ] as const),
    cval: finite('cval', o.cval ?? 0),
    prefetch: integer('prefetch', o.prefetch ?? 2, 0, 'an integer ≥ 0'),
    workers: integer(
      'workers',
      o.workers ?? Math.max(1, Math.min(4, cores - 1)),
      0,
      'an integer ≥ 0 (0 = main thread)',
    ),
    concurrency: integer('concurrency', o.concurrency ?? 4, 1, 'an integer ≥ 1'),
    fastResize,
    limitInputPixels:
      limit === false ? false : integer('limitInputPixels', limit, 1, 'an integer ≥ 1 or false'),
    maxBatchPixels:
      batchPixels === false
        ? false
        : integer('maxBatchPixels', batchPixels, 1, 'an integer ≥ 1 or false'),
    onInvalidImage: oneOf('onInvalidImage', o.onInvalidImage ?? 'error', [
      'error',
      'skip',
    ] as const),
    allowEmptyClasses: bool('allowEmptyClasses', o.allowEmptyClasses ?? false),
    logger: fn('logger', o.logger),
    onWarning: fn('onWarning', o.onWarning),
  };
}
