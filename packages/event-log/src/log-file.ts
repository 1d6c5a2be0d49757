import { nodeLogFileIo, openAppendLog, type LogFileIo, type OpenedLog } from '@rxfit/core/operator-kit';
import { checkHeader, headerLine } from './format.js';

export { nodeLogFileIo, type LogFileIo };

/**
 * Opens an event log for appending through core's `openAppendLog`: the rxfit v1 header, torn
 * lines cut, links and special files refused.
 * @throws Error naming the file when it is not an rxfit v1 log, a link or a special file.
 */
export function openLog(path: string, io: LogFileIo): OpenedLog {
  return openAppendLog('eventLog', path, 'event log', { line: headerLine(), check: checkHeader }, io);
}
