import { type Decider, type MonitorDirection } from '@rxfit/core';
import { isImprovement } from '@rxfit/core/operator-kit';

/** The resolved settings of `reduceLROnPlateau`, the decider's fixed input. */
export interface PlateauConfig {
  readonly monitor: string;
  readonly direction: MonitorDirection;
  readonly factor: number;
  readonly patience: number;
  /** Always ≥ 0 (Keras stores `abs(min_delta)`). */
  readonly minDelta: number;
  readonly cooldown: number;
  readonly minLr: number;
}

/** ReduceLROnPlateau's state: Keras' `best`, `wait` and `cooldown_counter`, plus bookkeeping. */
export interface PlateauState {
  /** The best monitored value so far; `undefined` before the first one (Keras' `None`). */
  readonly best: number | undefined;
  /** Epochs without improvement outside cooldown. */
  readonly wait: number;
  /** Epochs of cooldown left. */
  readonly cooldownCounter: number;
  /** Whether the missing-monitor warning was given in this run. */
  readonly warned: boolean;
}

/** What the operator must do after an event. */
export type PlateauCommand =
  | { readonly type: 'reduce'; readonly from: number; readonly to: number }
  | { readonly type: 'warn'; readonly message: string };

const INITIAL_STATE: PlateauState = { best: undefined, wait: 0, cooldownCounter: 0, warned: false };

/**
 * Keras' `ReduceLROnPlateau.on_epoch_end` as a {@link Decider}: folds each `epochEnd` into the
 * state and says whether to reduce the rate (or warn). The rate in force is the epoch's `lr` log
 * (the operator passes the rate the optimizer holds now for a live event, as Keras reads it from
 * the optimizer). Keras keeps rates in float32, so the rate is read as float32, compared with
 * `float32(minLr)` and the new rate is rounded to float32. The initial state is Keras' `_reset()`.
 *
 * ## Example
 * ```ts
 * const decider = plateauDeciderOf(config);
 * const { commands } = decider.decide(decider.initialState(), epochEndEvent);
 * ```
 * @param config - The resolved settings.
 * @returns The decider.
 */
export function plateauDeciderOf(config: PlateauConfig): Decider<PlateauState, PlateauCommand> {
  return {
    initialState: () => INITIAL_STATE,
    decide(state, event) {
      if (event.type !== 'epochEnd') return { state, commands: [] };
      const raw = event.logs[config.monitor] as unknown;
      if (raw === undefined) {
        if (state.warned) return { state, commands: [] };
        return {
          state: { ...state, warned: true },
          commands: [
            {
              type: 'warn',
              message:
                `Learning rate reduction is conditioned on metric \`${config.monitor}\` which is not available. ` +
                `Available metrics are: ${Object.keys(event.logs).join(',')}.`,
            },
          ],
        };
      }
      // A NaN read back from JSON is null: it must count as no improvement, as the live NaN did.
      const current = typeof raw === 'number' ? raw : Number.NaN;
      let { best, wait, cooldownCounter } = state;
      if (cooldownCounter > 0) {
        cooldownCounter -= 1;
        wait = 0;
      }
      const commands: PlateauCommand[] = [];
      if (isImprovement(config.direction, config.minDelta, current, best)) {
        best = current;
        wait = 0;
      } else if (cooldownCounter <= 0) {
        wait += 1;
        if (wait >= config.patience) {
          // Without a logged rate (a log of a model without one), assume the reduction happened
          // (the rate was above the floor), which is what restarts cooldown.
          const logged = event.logs['lr'] as unknown;
          const oldLr = Math.fround(typeof logged === 'number' ? logged : Number.POSITIVE_INFINITY);
          if (oldLr > Math.fround(config.minLr)) {
            const newLr = Math.fround(Math.max(oldLr * config.factor, config.minLr));
            if (Number.isFinite(oldLr)) commands.push({ type: 'reduce', from: oldLr, to: newLr });
            cooldownCounter = config.cooldown;
            wait = 0;
          }
        }
      }
      return { state: { ...state, best, wait, cooldownCounter }, commands };
    },
  };
}
