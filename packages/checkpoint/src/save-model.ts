import * as tf from '@tensorflow/tfjs';
import { checkOptions } from '@rxfit/core/operator-kit';
import { fileSystem, type FileSystemPort } from './file-system.js';

/** A tensor with its name, as optimizers' `getWeights` return them. */
type NamedTensor = { name: string; tensor: tf.Tensor };

/** Options of {@link saveModel}. */
export interface SaveModelOptions {
  /**
   * Also save the optimizer's state (iteration count, moments) and the compile settings, as tfjs'
   * `model.save(handler, { includeOptimizer: true })`. Ignored for a model that is not compiled.
   * @default true
   */
  readonly includeOptimizer?: boolean;
  /**
   * Save the weights (and optimizer state) without the topology and compile settings, as Keras'
   * `save_weights`; load them into a model with {@link loadWeights}. @default false
   */
  readonly weightsOnly?: boolean;
  /** The file operations. @default nodeFileSystem */
  readonly fileSystem?: FileSystemPort;
}

/** Options of {@link loadCheckpoint} and {@link loadWeights}. */
export interface LoadOptions {
  /** The file operations. @default nodeFileSystem */
  readonly fileSystem?: FileSystemPort;
}

/**
 * Saves a model to a local directory in the tfjs layers format (`model.json` + `weights.bin`),
 * atomically (see {@link fileSystem}), with the optimizer's state by default. The weights are
 * read before the returned promise resolves: do not train meanwhile (inside a run, hand the
 * promise to `control.defer`).
 *
 * ## Example
 * ```ts
 * import { saveModel, loadCheckpoint } from '@rxfit/checkpoint';
 * await saveModel(model, 'models/mnist');
 * const restored = await loadCheckpoint('models/mnist'); // compiled, optimizer state restored
 * ```
 * @param model - The model to save.
 * @param path - The checkpoint directory; replaced atomically when it holds a checkpoint.
 * @param options - See {@link SaveModelOptions}.
 * @returns When the checkpoint is complete on disk.
 * @throws TypeError when the optimizer cannot export its state (tfjs' Adamax: pass
 *   `includeOptimizer: false`); an Error naming the path when writing fails or the path holds
 *   something other than a checkpoint.
 */
export async function saveModel(
  model: tf.LayersModel,
  path: string,
  options: SaveModelOptions = {},
): Promise<void> {
  if (!(model instanceof tf.LayersModel)) {
    throw new TypeError(`saveModel: model must be a tf.LayersModel, got ${String(model)}`);
  }
  checkOptions('saveModel', options, ['includeOptimizer', 'weightsOnly', 'fileSystem']);
  const { includeOptimizer = true, weightsOnly = false } = options;
  let captured: tf.io.ModelArtifacts | undefined;
  // tfjs' own save builds the topology and weight specs; the optimizer part is added below because
  // model.save({ includeOptimizer: true }) leaks the iteration-count scalar on every call.
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      captured = artifacts;
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  if (!captured) throw new Error('saveModel: tfjs model.save produced no artifacts');
  const artifacts: tf.io.ModelArtifacts = { ...captured };
  const optimizer = model.optimizer as tf.Optimizer | undefined;
  if (includeOptimizer && optimizer != null) {
    let weights: NamedTensor[];
    try {
      weights = await optimizer.getWeights();
    } catch (error) {
      throw new TypeError(
        `saveModel: cannot save ${path}: the ${optimizer.getClassName()} optimizer cannot export its state (${(error as Error).message}); ` +
          'save with includeOptimizer: false',
        { cause: error },
      );
    }
    try {
      const encoded = await tf.io.encodeWeights(weights, 'optimizer');
      artifacts.weightSpecs = [...(artifacts.weightSpecs ?? []), ...encoded.specs];
      artifacts.weightData = tf.io.CompositeArrayBuffer.join([
        toArrayBuffer(artifacts.weightData),
        encoded.data,
      ]);
      if (!weightsOnly) artifacts.trainingConfig = trainingConfigOf(model);
    } finally {
      // getWeights creates the iteration count as a new scalar; the rest are the optimizer's variables.
      tf.dispose(weights.filter((w) => !(w.tensor instanceof tf.Variable)).map((w) => w.tensor));
    }
  }
  if (weightsOnly) delete artifacts.modelTopology;
  await fileSystem(path, options).save(artifacts);
}

/**
 * Loads a checkpoint written by `modelCheckpoint` or {@link saveModel} (or any tfjs layers model
 * directory): the model, compiled and with its optimizer state when the checkpoint holds them.
 * Falls back to `<path>.old` when a crash interrupted a save between its two renames.
 *
 * ## Example
 * ```ts
 * import { loadCheckpoint } from '@rxfit/checkpoint';
 * const model = await loadCheckpoint('checkpoints/best');
 * ```
 * @param path - The checkpoint directory (or its `model.json`).
 * @param options - See {@link LoadOptions}.
 * @returns The model.
 * @throws Error naming the path when there is no checkpoint, or when it holds weights only.
 */
export async function loadCheckpoint(
  path: string,
  options: LoadOptions = {},
): Promise<tf.LayersModel> {
  const handler = fileSystem(path, options);
  const artifacts = await handler.load();
  if (artifacts.modelTopology == null) {
    throw new Error(
      `loadCheckpoint: ${path} holds weights only (saved with saveWeightsOnly); build the model and call loadWeights(model, path)`,
    );
  }
  checkOptimizer(path, artifacts.trainingConfig);
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (error) {
    throw new Error(`loadCheckpoint: cannot build the model saved in ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * tfjs reports an optimizer it does not know as an "Unknown layer": check it first, so the error
 * says it is the optimizer.
 */
function checkOptimizer(path: string, config: tf.io.TrainingConfig | undefined): void {
  if (config == null) return;
  const optimizer = (config as { optimizer_config?: { class_name?: unknown } }).optimizer_config;
  const name = optimizer?.class_name;
  const known = tf.serialization.SerializationMap.getMap().classNameMap;
  if (typeof name === 'string' && Object.hasOwn(known, name)) return;
  const optimizers = Object.keys(known).filter((key) => {
    const entry = known[key];
    return entry !== undefined && (entry[0] as unknown as { prototype: unknown }).prototype instanceof tf.Optimizer;
  });
  throw new Error(
    `loadCheckpoint: ${path} was saved with the optimizer ${JSON.stringify(name)}, which tfjs does not know ` +
      `(known: ${optimizers.sort().join(', ')}); register it with tf.serialization.registerClass, ` +
      'or load the weights into a model you compile with loadWeights(model, path)',
  );
}

/**
 * Loads the weights of a checkpoint into an existing model (Keras' `load_weights`), and the
 * optimizer's state when the checkpoint holds it and the model is compiled. Works for full and
 * weights-only checkpoints. Weights are matched by order, as Keras does, since tfjs names each
 * layer instance uniquely (`dense_Dense3`): the model must have the same weights, in the same order
 * and shapes, as the one saved.
 *
 * ## Example
 * ```ts
 * import { loadWeights } from '@rxfit/checkpoint';
 * const model = buildModel(); model.compile({ optimizer: 'adam', loss: 'meanSquaredError' });
 * await loadWeights(model, 'checkpoints/epoch-03');
 * ```
 * @param model - A model with the same weights as the one saved.
 * @param path - The checkpoint directory.
 * @param options - See {@link LoadOptions}.
 * @returns When the weights are in place.
 * @throws Error naming the path when there is no checkpoint or the weights do not match.
 */
export async function loadWeights(
  model: tf.LayersModel,
  path: string,
  options: LoadOptions = {},
): Promise<void> {
  const artifacts = await fileSystem(path, options).load();
  const specs = artifacts.weightSpecs ?? [];
  const named = tf.io.decodeWeights(artifacts.weightData ?? new ArrayBuffer(0), specs);
  const modelWeights: tf.Tensor[] = [];
  const optimizerWeights: NamedTensor[] = [];
  for (const spec of specs) {
    const tensor = named[spec.name]!;
    if (spec.group === 'optimizer') optimizerWeights.push({ name: spec.name, tensor });
    else modelWeights.push(tensor);
  }
  try {
    checkShapes(model, modelWeights);
    model.setWeights(modelWeights);
    const optimizer = model.optimizer as tf.Optimizer | undefined;
    if (optimizer != null && optimizerWeights.length > 0) {
      // setWeights replaces the optimizer's variables without disposing the old ones: do it here.
      const previous = await optimizer.getWeights();
      await optimizer.setWeights(optimizerWeights);
      tf.dispose(previous.map((w) => w.tensor));
    }
  } catch (error) {
    throw new Error(
      `loadWeights: cannot load ${path} into this model: ${(error as Error).message}`,
      { cause: error },
    );
  } finally {
    tf.dispose(Object.values(named));
  }
}

function checkShapes(model: tf.LayersModel, values: readonly tf.Tensor[]): void {
  const weights = model.weights;
  if (weights.length !== values.length) {
    throw new Error(`the model has ${weights.length} weights, the checkpoint ${values.length}`);
  }
  weights.forEach((weight, i) => {
    const shape = values[i]!.shape;
    if (weight.shape.length !== shape.length || weight.shape.some((d, j) => d !== shape[j])) {
      throw new Error(
        `weight ${i} (${weight.originalName}) has shape [${weight.shape.join(', ')}], the checkpoint's [${shape.join(', ')}]`,
      );
    }
  });
}

function trainingConfigOf(model: tf.LayersModel): tf.io.TrainingConfig {
  // Protected in tfjs' typings; model.save uses it for includeOptimizer.
  return (model as unknown as { getTrainingConfig(): tf.io.TrainingConfig }).getTrainingConfig();
}

function toArrayBuffer(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (data === undefined) return new ArrayBuffer(0);
  return Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
}
