import { checkInteger, checkOptions, seededRandom } from '@rxfit/core/operator-kit';
import { CONTINUE, percentile, type Mode, type PruneDecision, type Pruner, type TrialReport } from './pruner.js';

/** Options of {@link asha}; the defaults are Ray Tune's `ASHAScheduler`. */
export interface AshaOptions {
  /** `grace_period` (min_t): epochs before the first rung; no trial is pruned sooner. @default 1 */
  readonly gracePeriod?: number;
  /** `max_t`: a trial that completes this many epochs is stopped (finished, not pruned). @default 100 */
  readonly maxT?: number;
  /** `reduction_factor` (η): keep the top 1/η at each rung. @default 4 */
  readonly reductionFactor?: number;
  /** `brackets` (s): how many brackets; a trial joins one at random, weighted as Ray Tune. @default 1 */
  readonly brackets?: number;
  /** Seeds the bracket draw. @default 0 */
  readonly seed?: number;
}

/** One rung: its milestone in completed epochs and the values recorded there (signed: larger is better). */
export interface AshaRung {
  readonly milestone: number;
  readonly recorded: Readonly<Record<string, number>>;
}

/** ASHA's state: the rungs of each bracket (highest milestone first, as Ray Tune) and each trial's bracket. */
export interface AshaState {
  readonly mode: Mode;
  readonly brackets: readonly (readonly AshaRung[])[];
  readonly bracketOf: Readonly<Record<string, number>>;
}

/**
 * The milestones of bracket `s`: `gracePeriod * reductionFactor^(k + s)` for
 * k = 0 … ⌊log_η(maxT / gracePeriod)⌋ − s, highest first (Ray Tune's `_Bracket`).
 */
export function ashaMilestones(gracePeriod: number, maxT: number, reductionFactor: number, s: number): number[] {
  const rungs = Math.trunc(Math.log(maxT / gracePeriod) / Math.log(reductionFactor) - s + 1);
  const milestones: number[] = [];
  for (let k = rungs - 1; k >= 0; k--) milestones.push(gracePeriod * reductionFactor ** (k + s));
  return milestones;
}

/**
 * Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter
 * Tuning", MLSys 2020), decision for decision as Ray Tune's `AsyncHyperBandScheduler`: when a
 * trial has completed `t` epochs, take the highest rung whose milestone ≤ t that it has not
 * reached before; if the values recorded there so far have a cutoff (their
 * `(1 − 1/η) × 100` percentile, linear interpolation, on values negated for `mode: 'min'`) and
 * the trial's value is worse, prune it; either way record its value there. Decisions never wait
 * for other trials. A trial at `t ≥ maxT` is stopped.
 *
 * ## Example
 * ```ts
 * import { asha, sweep } from '@rxfit/sweep';
 * sweep({ ..., metric: 'val_acc', pruner: asha({ gracePeriod: 1, maxT: 9, reductionFactor: 3 }) });
 * ```
 * @param options - See {@link AshaOptions}.
 * @returns The pruner.
 * @throws RangeError for bad options (maxT must exceed gracePeriod).
 */
export function asha(options: AshaOptions = {}): Pruner<AshaState> {
  checkOptions('asha', options, ['gracePeriod', 'maxT', 'reductionFactor', 'brackets', 'seed']);
  const { gracePeriod = 1, maxT = 100, reductionFactor = 4, brackets = 1, seed = 0 } = options;
  checkInteger('asha', 'gracePeriod', gracePeriod, 1);
  checkInteger('asha', 'maxT', maxT, 1);
  checkInteger('asha', 'reductionFactor', reductionFactor, 2);
  checkInteger('asha', 'brackets', brackets, 1);
  checkInteger('asha', 'seed', seed, 0);
  if (maxT <= gracePeriod) throw new RangeError(`asha: maxT must be > gracePeriod (${String(gracePeriod)}), got ${String(maxT)}`);
  const q = (1 - 1 / reductionFactor) * 100;

  const milestones = Array.from({ length: brackets }, (_, s) => ashaMilestones(gracePeriod, maxT, reductionFactor, s));
  // Ray Tune: P(bracket) ∝ e^(rungs − max rungs), so brackets with more rungs are likelier.
  const top = Math.max(...milestones.map((m) => m.length));
  const weights = milestones.map((m) => Math.exp(m.length - top));
  const total = weights.reduce((a, b) => a + b, 0);
  const bracketFor = (trialId: string): number => {
    if (brackets === 1) return 0;
    let r = seededRandom(seed, hash(trialId), 7)() * total;
    for (let i = 0; i < weights.length; i++) {
      r -= weights[i]!;
      if (r < 0) return i;
    }
    return weights.length - 1;
  };

  return {
    name: `asha(gracePeriod ${String(gracePeriod)}, maxT ${String(maxT)}, reductionFactor ${String(reductionFactor)}, brackets ${String(brackets)})`,
    initialState(mode) {
      return {
        mode,
        brackets: milestones.map((rungs) => rungs.map((milestone) => ({ milestone, recorded: {} }))),
        bracketOf: {},
      };
    },
    report(state, report: TrialReport) {
      const t = report.epoch + 1;
      if (t >= maxT) {
        return { state, decision: { action: 'stop', reason: `asha: ${String(t)} epochs reached maxT ${String(maxT)}`, value: report.value } };
      }
      let b = state.bracketOf[report.trialId];
      if (b === undefined) {
        b = bracketFor(report.trialId);
        state = { ...state, bracketOf: { ...state.bracketOf, [report.trialId]: b } };
      }
      const rungs = state.brackets[b]!;
      const signed = state.mode === 'max' ? report.value : -report.value;
      for (let i = 0; i < rungs.length; i++) {
        const rung = rungs[i]!;
        if (t < rung.milestone || report.trialId in rung.recorded) continue;
        const cut = percentile(Object.values(rung.recorded), q);
        let decision: PruneDecision = CONTINUE;
        const index = rungs.length - 1 - i;
        if (cut !== undefined && signed < cut) {
          const cutoff = state.mode === 'max' ? cut : -cut;
          decision = {
            action: 'prune',
            reason: `asha: ${fmt(report.value)} at rung ${String(index)} (${String(rung.milestone)} epochs) is ${state.mode === 'max' ? 'below' : 'above'} the cutoff ${fmt(cutoff)} (top 1/${String(reductionFactor)} of ${String(Object.keys(rung.recorded).length)} trials)`,
            rung: index,
            milestone: rung.milestone,
            value: report.value,
            cutoff,
          };
        }
        if (!Number.isNaN(signed)) {
          const next = rungs.map((r, k) => (k === i ? { ...r, recorded: { ...r.recorded, [report.trialId]: signed } } : r));
          state = { ...state, brackets: state.brackets.map((br, k) => (k === b ? next : br)) };
        }
        return { state, decision };
      }
      return { state, decision: CONTINUE };
    },
    finished: (state) => state,
  };
}

function fmt(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toPrecision(4);
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
