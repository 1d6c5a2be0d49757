import { sink, type EventOfType } from '@rxfit/core';
import { writeFileAtomic } from '@rxfit/core/operator-kit';

/** Keeps the best val_acc so far in a JSON file; when training ends, says who stopped it and why. */
export function bestAccuracySink(path: string) {
  return sink(
    () => {
      let best: { epoch: number; val_acc: number } | undefined;
      let stop: EventOfType<'stopRequested'> | undefined;
      return {
        onEpochEnd: async (event) => {
          const acc = event.logs['val_acc'];
          if (acc === undefined || (best && acc <= best.val_acc)) return;
          best = { epoch: event.epoch, val_acc: acc };
          if (event.replayed) return; // a replay rebuilds `best` but writes nothing
          await writeFileAtomic(path, JSON.stringify(best)); // a crash never leaves half a file
        },
        onStopRequested: (event) => {
          stop = event;
        },
        onTrainEnd: (event) => {
          const how = stop
            ? `stopped by ${stop.by} at epoch ${stop.epoch} (${stop.reason})`
            : `${event.reason} at epoch ${event.epoch}`;
          console.log(
            `training ${how}; best val_acc ${best?.val_acc.toFixed(3)} at epoch ${best?.epoch}`,
          );
        },
      };
    },
    { name: 'bestAccuracy', mode: 'lossless' },
  );
}
