/**
 * Preloaded by `npm test` (`--import`), so every test process gets it. Test processes run tfjs
 * on its `cpu` backend on purpose (deterministic, no wasm start-up): most set it with
 * `tf.setBackend('cpu')`, some get it as tfjs' default under Node. tfjs' cpu backend then prints
 * its "Hi, looks like you are running TensorFlow.js in Node.js. To speed things up dramatically,
 * install our node backend..." advice at its first tensor, once per process: about 25 times per
 * `npm test`. This drops exactly that message; every other warning, such as a kernel registered
 * twice, still prints. Programs are not affected: rxfit's own fix is in `useBestBackend`
 * (packages/backend), which marks the cpu backend it chose; a program that picks cpu with tfjs
 * alone keeps tfjs' behaviour. Plain JavaScript: wasm's pthread workers inherit the preloads, and
 * a worker may start before tsx's loader is in place.
 */
const TFJS_CPU_BANNER = 'Hi, looks like you are running TensorFlow.js in Node.js';

const warn = console.warn.bind(console);
console.warn = (...args) => {
  if (typeof args[0] === 'string' && args[0].includes(TFJS_CPU_BANNER)) return;
  warn(...args);
};
