import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { fileVersionRecord } from './summary.js';

/** The file system calls the writer makes (tests may inject failures). */
export interface EventFileSystem {
  /** Creates a folder and its parents. */
  mkdir(path: string): Promise<void>;
  /** Opens a file for appending. */
  openAppend(path: string): Promise<Pick<FileHandle, 'write' | 'sync' | 'close'>>;
}

/** The node file system. */
export const nodeEventFileSystem: EventFileSystem = {
  async mkdir(path) {
    await mkdir(path, { recursive: true });
  },
  openAppend: (path) => open(path, 'a'),
};

// TensorFlow numbers the files a process writes, so two writers never share a name.
let fileCounter = 0;

/**
 * TensorFlow's event file name: `events.out.tfevents.<seconds>.<host>.<pid>.<n>.v2`.
 * TensorBoard reads every file of a run folder in name order.
 */
export function eventFileName(wallTime: number): string {
  return `events.out.tfevents.${Math.floor(wallTime)}.${hostname()}.${process.pid}.${fileCounter++}.v2`;
}

/**
 * One event file: records are appended in memory and written with one `write` at each flush,
 * then fsynced. Only whole records are ever appended, and TensorBoard reads a file while it
 * grows (it waits for a record that is not complete yet), so the file is safe to read at any time.
 */
export class EventFile {
  readonly path: string;
  private pending: Uint8Array[];
  private handle: Pick<FileHandle, 'write' | 'sync' | 'close'> | undefined;

  constructor(
    folder: string,
    wallTime: number,
    private readonly fs: EventFileSystem,
  ) {
    this.path = join(folder, eventFileName(wallTime));
    this.pending = [fileVersionRecord(wallTime)];
  }

  append(record: Uint8Array): void {
    this.pending.push(record);
  }

  /** Writes what is pending and fsyncs; the first flush creates the folder and the file. */
  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const records = this.pending;
    this.pending = [];
    try {
      if (!this.handle) {
        await this.fs.mkdir(dirname(this.path));
        this.handle = await this.fs.openAppend(this.path);
      }
      await this.handle.write(Buffer.concat(records));
      await this.handle.sync();
    } catch (error) {
      throw new Error(
        `tensorBoard: cannot write '${this.path}': ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }
}
