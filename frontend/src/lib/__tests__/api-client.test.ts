import { describe, expect, it, vi } from 'vitest';
import { api, ApiError, NETWORK_ERROR_MESSAGE, onUnauthorized, problemToError } from '../api-client';
import { stubFetch } from '@/test/fetch';

describe('problemToError', () => {
  it('turns validation errors into sentences and keeps them per field', () => {
    const e = problemToError(400, {
      status: 400,
      code: 'validation_failed',
      detail: 'title: is required; dueAt: must be an RFC 3339 date-time',
      errors: [
        { field: 'title', message: 'is required' },
        { field: 'dueAt', message: 'must be an RFC 3339 date-time' },
      ],
    });
    expect(e.code).toBe('validation_failed');
    expect(e.fields).toEqual({ title: 'Is required.', dueAt: 'Must be an RFC 3339 date-time.' });
    expect(e.message).toBe('Title is required. Due date must be an RFC 3339 date-time.');
  });

  it('uses the detail of other problems', () => {
    const e = problemToError(409, { code: 'email_taken', detail: 'an account with this email already exists; sign in instead' });
    expect(e.message).toBe('An account with this email already exists; sign in instead.');
    expect(e.code).toBe('email_taken');
  });

  it('explains a lost session, but not a wrong password, as a session problem', () => {
    expect(problemToError(401, { code: 'unauthenticated', detail: 'not signed in' }).message).toMatch(/session has ended/);
    expect(problemToError(401, { code: 'invalid_credentials', detail: 'email or password is incorrect' }).message).toBe(
      'Email or password is incorrect.',
    );
  });

  it('says how long to wait when rate limited', () => {
    expect(problemToError(429, { code: 'rate_limited', detail: 'x' }, '42').message).toBe(
      'Too many attempts. Please wait 42 seconds and try again.',
    );
  });

  it('has words for server errors without a body', () => {
    expect(problemToError(502, null).message).toMatch(/server had a problem/);
    expect(problemToError(404, null).message).toMatch(/no longer exists/);
  });
});

describe('api', () => {
  it('sends JSON with a content type on mutations, as the CSRF guard requires', async () => {
    const calls = stubFetch(() => ({ status: 201, body: { id: '1' } }));
    await api('/tasks', { method: 'POST', body: { title: 'x' } });
    await api('/tasks/1/complete', { method: 'POST' });
    expect(calls[0]).toMatchObject({ url: '/api/v1/tasks', method: 'POST', body: { title: 'x' } });
    expect(calls[0]!.headers['content-type']).toBe('application/json');
    expect(calls[1]!.headers['content-type']).toBe('application/json');
  });

  it('leaves empty query values out of the URL', async () => {
    const calls = stubFetch(() => ({ status: 200, body: { items: [] } }));
    await api('/tasks', { query: { status: 'open', tag: '', search: undefined, limit: 30 } });
    expect(calls[0]!.url).toBe('/api/v1/tasks?status=open&limit=30');
  });

  it('tells listeners about a 401 and throws an ApiError', async () => {
    stubFetch(() => ({ status: 401, body: { code: 'unauthenticated', detail: 'sign in' } }));
    const listener = vi.fn();
    const off = onUnauthorized(listener);
    await expect(api('/tasks')).rejects.toBeInstanceOf(ApiError);
    expect(listener).toHaveBeenCalledTimes(1);
    await expect(api('/auth/signin', { method: 'POST', skipUnauthorizedHandler: true })).rejects.toThrow();
    expect(listener).toHaveBeenCalledTimes(1);
    off();
  });

  it('reports an unreachable server in plain words', async () => {
    vi.stubGlobal('fetch', vi.fn(() => Promise.reject(new TypeError('Failed to fetch'))));
    await expect(api('/tasks')).rejects.toMatchObject({ status: 0, message: NETWORK_ERROR_MESSAGE });
  });

  it('returns nothing for 204', async () => {
    stubFetch(() => ({ status: 204 }));
    await expect(api('/auth/signout', { method: 'POST' })).resolves.toBeUndefined();
  });
});
