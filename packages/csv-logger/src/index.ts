export { csvLogger, type CsvLoggerOptions } from './csv-logger.js';
export { nodeFileSystem, type CsvFileSystem } from './csv-file.js';
export { formatRow, pythonFloat, rowCells, type CsvDialect } from './format.js';
export {
  headerKeys,
  initialState,
  reduce,
  type CsvLoggerDecision,
  type CsvLoggerState,
  type CsvLoggerStep,
  type CsvRow,
} from './reducer.js';
