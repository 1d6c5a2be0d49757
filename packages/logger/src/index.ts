export { progressBar, type ProgressBarOptions } from './progress-bar.js';
export { pinoLogger, type PinoLoggerOptions } from './pino-logger.js';
