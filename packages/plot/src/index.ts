export { plotHistory, type PlotFormat, type PlotHistoryOptions } from './plot-history.js';
export {
  historySpec,
  plottableMetrics,
  type HistorySpecOptions,
  type PlotHistoryData,
} from './history-spec.js';
export { writeChart, type ChartSpec, type WriteChartOptions } from './render.js';
