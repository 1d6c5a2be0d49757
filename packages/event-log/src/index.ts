export { eventLog, type EventLogOptions } from './event-log.js';
export { readEventLog, listRuns, type ReadEventLogOptions } from './read-event-log.js';
export { LOG_SCHEMA, LOG_VERSION, type LogHeader } from './format.js';
export type { LogFileIo } from '@rxfit/core/operator-kit';
export { backupAndRestore, type BackupAndRestoreOptions } from './backup-and-restore.js';
export { isBackupEntry, readBackup, BACKUP_SCHEMA, type BackupMeta } from './backup-store.js';
export { resumable, RESUMED_EVENT, type ResumableOptions, type ResumePoint, type ResumedData } from './resumable.js';
export { replayAsRun, simulate, whatIf, type WhatIfResult } from './what-if.js';
export { type RunSummary, type StopDecision, type WhatIfOutcome } from './run-summaries.js';
