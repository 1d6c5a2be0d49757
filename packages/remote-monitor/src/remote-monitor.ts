import type { MonoTypeOperatorFunction } from 'rxjs';
import {
  sink,
  SINK_MODES,
  type SinkHandler,
  type SinkHandlers,
  type SinkMode,
  type TrainingEvent,
} from '@rxfit/core';
import {
  checkInteger,
  checkNumber,
  checkOneOf,
  checkOptions as checkOptionKeys,
} from '@rxfit/core/operator-kit';

/** The name the operator gives in its warnings (`by`) and errors. */
export const REMOTE_MONITOR = 'remoteMonitor';

/** Every event type, for validating `events`. */
const EVENT_TYPES: readonly TrainingEvent['type'][] = [
  'trainBegin',
  'epochBegin',
  'batchBegin',
  'batchEnd',
  'epochEnd',
  'trainEnd',
  'stopRequested',
  'learningRateChanged',
  'checkpointSaved',
  'custom',
];

/** Options of {@link remoteMonitor}; only `url` is required. */
export interface RemoteMonitorOptions {
  /** Where each event is POSTed (`http:` or `https:`). Keras' `root + path`. */
  readonly url: string | URL;
  /** The event types to send. @default ['epochEnd'] */
  readonly events?: readonly TrainingEvent['type'][];
  /** Extra request headers (`content-type: application/json` is set unless given). @default {} */
  readonly headers?: Readonly<Record<string, string>>;
  /** How long one attempt may take before it is aborted. @default 10000 */
  readonly timeoutMs?: number;
  /** Attempts after the first one fails (network error, timeout, 408, 429 or 5xx). @default 2 */
  readonly retries?: number;
  /** The wait before the first retry; it doubles for each further one. @default 200 */
  readonly backoffMs?: number;
  /**
   * `latest`: training never waits on the network; a pending batch event is replaced by a newer
   * one, and an event that cannot be delivered after the retries is dropped.
   * `lossless`: every event is sent, in order; one that cannot be delivered is kept and sent
   * again before the next, so nothing is lost when the server recovers; the loop waits when
   * more than `bound` events are pending. @default 'latest'
   */
  readonly mode?: SinkMode;
  /** `lossless` only: pending events before the loop waits (see `sink`). @default 100 */
  readonly bound?: number;
  /** The JSON body of an event. @default the event itself (`{ runId, seq, time, type, epoch, logs, ... }`) */
  readonly body?: (event: TrainingEvent) => unknown;
  /** The HTTP client (a port for tests). @default globalThis.fetch */
  readonly fetch?: typeof fetch;
  /** Names the sink in warnings and errors, to tell two monitors apart. @default 'remoteMonitor' */
  readonly name?: string;
}

/**
 * Keras' `RemoteMonitor`: POSTs training events as JSON to a URL, off the training step, with a
 * timeout, bounded retries with exponential backoff, and a warning event (never a failed run)
 * when the server cannot be reached. Replayed events are not sent again.
 *
 * ## Example
 * ```ts
 * import { remoteMonitor } from '@rxfit/remote-monitor';
 * await lastValueFrom(
 *   fit(model, data, { epochs: 20 }).pipe(remoteMonitor({ url: 'http://localhost:9000/publish/epoch/end/' })),
 * );
 * ```
 * @param options - See {@link RemoteMonitorOptions}.
 * @returns An operator that passes every event through unchanged and posts the chosen ones.
 * @throws TypeError/RangeError at call time for bad options.
 */
export function remoteMonitor(
  options: RemoteMonitorOptions,
): MonoTypeOperatorFunction<TrainingEvent> {
  const settings = checkOptions(options);
  const { name, mode } = settings;
  return sink(() => monitorHandlers(settings), {
    name,
    mode,
    bestEffort: true,
    ...(mode === 'lossless' && options.bound !== undefined ? { bound: options.bound } : {}),
  });
}

interface Settings {
  readonly url: URL;
  /** The URL as messages show it: no credentials, no query, no fragment. */
  readonly shown: string;
  /** Removes the query and the header values from a text that may quote them (an error's message). */
  readonly scrub: (text: string) => string;
  readonly events: readonly TrainingEvent['type'][];
  readonly headers: Readonly<Record<string, string>>;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly backoffMs: number;
  readonly mode: SinkMode;
  readonly body: (event: TrainingEvent) => unknown;
  readonly fetch: typeof fetch;
  readonly name: string;
}

/** The handlers of one run: the outbox and the outage flag are per subscription. */
function monitorHandlers(settings: Settings): SinkHandlers {
  const { shown, mode, scrub } = settings;
  /** lossless: events not delivered yet, oldest first. */
  const outbox: TrainingEvent[] = [];
  /** latest: events given up on. */
  let dropped = 0;
  /** The last attempt failed: further failures are not warned about until one succeeds. */
  let down = false;

  const report = (error: unknown, kept: string): void => {
    if (down) return;
    down = true;
    throw new Error(
      `could not reach ${shown}: ${scrub(reasonOf(error))} (after ${settings.retries + 1} attempts; ${kept}; further failures are not reported until it answers)`,
      { cause: error },
    );
  };

  const send: SinkHandler = async (event) => {
    if (event.replayed) return; // sent when it happened
    if (mode === 'latest') {
      try {
        await post(settings, event);
        down = false;
      } catch (error) {
        dropped++;
        report(error, 'the event is dropped');
      }
      return;
    }
    outbox.push(event);
    try {
      await drain();
    } catch (error) {
      report(error, `${outbox.length} event(s) kept to send again`);
    }
  };
  const drain = async (): Promise<void> => {
    for (let next = outbox[0]; next !== undefined; next = outbox[0]) {
      await post(settings, next);
      outbox.shift();
      down = false;
    }
  };

  const handlers: Record<string, SinkHandler | (() => Promise<void>)> = {};
  for (const type of settings.events)
    handlers[`on${type[0]!.toUpperCase()}${type.slice(1)}`] = send;
  handlers['flush'] = async () => {
    if (mode === 'lossless' && outbox.length > 0) {
      try {
        await drain();
      } catch (error) {
        const lost = outbox.length;
        outbox.length = 0;
        throw new Error(
          `${lost} event(s) could not be delivered to ${shown} by the end of the run: ${scrub(reasonOf(error))}`,
          {
            cause: error,
          },
        );
      }
    }
    if (dropped > 0) {
      const lost = dropped;
      dropped = 0;
      throw new Error(
        `${lost} event(s) could not be delivered to ${shown} during the run and were dropped`,
      );
    }
  };
  return handlers;
}

/** Statuses worth another attempt: the server may answer later. */
const RETRY_STATUSES = new Set([408, 425, 429, 500, 502, 503, 504]);

class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    statusText: string,
  ) {
    super(`HTTP ${status}${statusText ? ` ${statusText}` : ''}`);
  }
}

/** One event, with the retries: resolves when the server answered 2xx, rejects after the last attempt. */
async function post(settings: Settings, event: TrainingEvent): Promise<void> {
  const body = JSON.stringify(settings.body(event));
  const headers = { 'content-type': 'application/json', ...settings.headers };
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await settings.fetch(settings.url, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(settings.timeoutMs),
      });
      // Read the body so the connection goes back to the pool.
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return;
      throw new HttpStatusError(response.status, response.statusText);
    } catch (error) {
      const retriable = !(error instanceof HttpStatusError) || RETRY_STATUSES.has(error.status);
      if (!retriable || attempt >= settings.retries) throw error;
      await new Promise((resolve) => setTimeout(resolve, settings.backoffMs * 2 ** attempt));
    }
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof Error) {
    if (error.name === 'TimeoutError') return 'timed out';
    const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
    return `${error.message}${cause}`;
  }
  return String(error);
}

/** A value's type, for an error about it: never the value itself. */
function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function checkOptions(options: RemoteMonitorOptions): Settings {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(
      `${REMOTE_MONITOR}: options must be an object with a url, got ${String(options)}`,
    );
  }
  checkOptionKeys(REMOTE_MONITOR, options, [
    'url',
    'events',
    'headers',
    'timeoutMs',
    'retries',
    'backoffMs',
    'mode',
    'bound',
    'body',
    'fetch',
    'name',
  ]);
  const {
    events = ['epochEnd'],
    headers = {},
    timeoutMs = 10_000,
    retries = 2,
    backoffMs = 200,
    mode = 'latest',
    body = (event: TrainingEvent) => event,
    fetch: fetchPort = globalThis.fetch,
    name = REMOTE_MONITOR,
  } = options;
  if (typeof name !== 'string' || name === '')
    throw new TypeError(
      `${REMOTE_MONITOR}: name must be a non-empty string, got ${JSON.stringify(name)}`,
    );
  const owner = name;
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new TypeError(
      `${owner}: url must be an absolute http(s) URL, got ${JSON.stringify(
        // Shown without what may be secret: credentials and the query.
        String(options.url).replace(/^([^/]*\/\/)?[^/@]*@/, '$1***@').replace(/\?.*$/, '?***'),
      )}`,
    );
  }
  const shown = `${url.origin}${url.pathname}`;
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError(
      `${owner}: url must be an http: or https: URL, got ${
        // With no host, the rest may be anything (user:password@...): only the scheme is shown.
        url.host === '' ? `a ${JSON.stringify(url.protocol)} URL` : JSON.stringify(`${url.protocol}//${url.host}${url.pathname}`)
      }`,
    );
  }
  if (url.username !== '' || url.password !== '') {
    // fetch refuses such URLs, and the password would be printed in every warning.
    throw new TypeError(
      `${owner}: url must not hold credentials (user:password@ in ${shown}); send them in a header instead, ` +
        "e.g. headers: { authorization: 'Basic ' + btoa('user:password') } or { authorization: 'Bearer <token>' }",
    );
  }
  if (!Array.isArray(events) || events.length === 0) {
    throw new RangeError(
      `${owner}: events must be a non-empty array of event types, got ${JSON.stringify(events)}`,
    );
  }
  for (const type of events) checkOneOf(owner, 'events[]', type, EVENT_TYPES);
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new TypeError(`${owner}: headers must be an object of strings, got ${describeValue(headers)}`);
  }
  for (const [key, value] of Object.entries(headers)) {
    // The value is never quoted: it may be a token.
    if (typeof value !== 'string')
      throw new TypeError(`${owner}: headers must be an object of strings; header '${key}' is ${describeValue(value)}`);
  }
  checkInteger(owner, 'timeoutMs', timeoutMs, 1);
  checkInteger(owner, 'retries', retries, 0);
  checkNumber(owner, 'backoffMs', backoffMs, { min: 0 });
  checkOneOf(owner, 'mode', mode, SINK_MODES);
  if (options.bound !== undefined) {
    if (mode !== 'lossless')
      throw new TypeError(`${owner}: bound applies to mode 'lossless' only, got mode '${mode}'`);
    checkInteger(owner, 'bound', options.bound, 1);
  }
  if (typeof body !== 'function')
    throw new TypeError(`${owner}: body must be a function, got ${typeof body}`);
  if (typeof fetchPort !== 'function')
    throw new TypeError(`${owner}: fetch must be a function, got ${typeof fetchPort}`);
  const secrets = [url.search.slice(1), ...Object.values(headers)].filter((secret) => secret.length >= 4);
  const scrub = (text: string): string =>
    secrets.reduce((out, secret) => out.split(secret).join('***'), text.split(url.href).join(shown));
  return {
    url,
    shown,
    scrub,
    events: [...new Set(events)],
    headers,
    timeoutMs,
    retries,
    backoffMs,
    mode,
    body,
    fetch: fetchPort,
    name,
  };
}
