export { csvLogger, type CsvLoggerOptions } from './csv-logger.js';
export { nodeFileSystem, type CsvFileSystem } from './csv-file.js';
export { formatRow, headerKeys, pythonFloat, rowCells, type CsvDialect } from './format.js';
