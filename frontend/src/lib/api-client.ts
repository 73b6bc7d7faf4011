/**
 * The one way the app talks to the API: same-origin `/api/v1`, cookie session, JSON.
 * Every failure becomes an `ApiError` whose `message` can be shown to the user as is, so
 * components never have to interpret status codes themselves.
 */

import { OFFLINE_HEADER, reportServerReached } from './online';
import type { Problem } from './types';

export const API_BASE = '/api/v1';

/** An error response's body as it may arrive: a proxy in front of the API can answer with
 * less than a whole problem document. */
type ProblemBody = Partial<Problem>;

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  /** Field name (as the API names it, e.g. `title`, `recurrence.interval`) → message. */
  readonly fields: Record<string, string>;

  constructor(status: number, code: string, message: string, fields: Record<string, string> = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.fields = fields;
  }

  get isUnauthenticated(): boolean {
    return this.status === 401;
  }

  get isNotFound(): boolean {
    return this.status === 404;
  }
}

const FIELD_LABELS: Record<string, string> = {
  dueAt: 'Due date',
  reminderOffsetMinutes: 'Reminder',
  timeZone: 'Time zone',
  autonomousAgentsEnabled: 'Assistants',
  workDays: 'Working days',
  workStart: 'Start of the working day',
  workEnd: 'End of the working day',
  dailyPlanSize: 'Tasks in the daily plan',
  estimateMinutes: 'Estimate',
};

function humanField(field: string): string {
  const root = field.split(/[.[]/)[0] ?? field;
  const label = FIELD_LABELS[root] ?? root.replace(/([A-Z])/g, ' $1').toLowerCase();
  return label.charAt(0).toUpperCase() + label.slice(1);
}

function sentence(text: string): string {
  const t = text.trim();
  if (!t) return t;
  const capital = t.charAt(0).toUpperCase() + t.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** Turns a response that failed into words a user understands. */
export function problemToError(status: number, problem: ProblemBody | null, retryAfter?: string | null): ApiError {
  const code = problem?.code ?? `http_${status}`;
  const fields: Record<string, string> = {};
  for (const e of problem?.errors ?? []) {
    if (!(e.field in fields)) fields[e.field] = sentence(e.message);
  }
  let message: string;
  if (status === 401 && code !== 'invalid_credentials') {
    message = 'Your session has ended. Please sign in again.';
  } else if (status === 429) {
    const secs = Number(retryAfter);
    message = Number.isFinite(secs) && secs > 0
      ? `Too many attempts. Please wait ${Math.ceil(secs)} seconds and try again.`
      : 'Too many attempts. Please wait a moment and try again.';
  } else if (problem?.errors?.length) {
    message = problem.errors.map((e) => `${humanField(e.field)} ${e.message.trim()}`).map(sentence).join(' ');
  } else if (problem?.detail) {
    message = sentence(problem.detail);
  } else if (status === 404) {
    message = 'That item no longer exists. It may have been deleted in another tab.';
  } else if (status >= 500) {
    message = 'The server had a problem. Please try again in a moment.';
  } else {
    message = problem?.title ? sentence(problem.title) : `The request failed (${status}).`;
  }
  return new ApiError(status, code, message, fields);
}

export const NETWORK_ERROR_MESSAGE = 'Cannot reach the server. Check your connection and try again.';

type UnauthorizedListener = () => void;
const unauthorizedListeners = new Set<UnauthorizedListener>();

/** Called whenever a request answers 401: the app then keeps the user's input and signs out. */
export function onUnauthorized(listener: UnauthorizedListener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined | null>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Auth endpoints answer 401 for a wrong password, which is not a lost session. */
  skipUnauthorizedHandler?: boolean;
  keepalive?: boolean;
}

export function buildUrl(path: string, query?: RequestOptions['query']): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== null && v !== '') params.append(k, String(v));
  }
  const qs = params.toString();
  return `${API_BASE}${path}${qs ? `?${qs}` : ''}`;
}

export async function api<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...opts.headers };
  // The API refuses state-changing requests that are not JSON (its CSRF guard), so every
  // mutation declares JSON even when it has no body.
  if (opts.method && opts.method !== 'GET') headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(buildUrl(path, opts.query), {
      method: opts.method ?? 'GET',
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      credentials: 'same-origin',
      signal: opts.signal,
      keepalive: opts.keepalive,
    });
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    reportServerReached(false);
    throw new ApiError(0, 'network', NETWORK_ERROR_MESSAGE);
  }
  // An answer the service worker kept from earlier: shown, but the app is offline.
  reportServerReached(!response.headers.get(OFFLINE_HEADER));
  if (response.ok) {
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }
  let problem: ProblemBody | null = null;
  try {
    problem = (await response.json()) as ProblemBody;
  } catch {
    problem = null;
  }
  const error = problemToError(response.status, problem, response.headers.get('retry-after'));
  if (error.isUnauthenticated && !opts.skipUnauthorizedHandler) {
    unauthorizedListeners.forEach((l) => l());
  }
  throw error;
}

/** A message for any thrown value, for places that show errors without knowing their type. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error && e.message) return sentence(e.message);
  return 'Something went wrong. Please try again.';
}
