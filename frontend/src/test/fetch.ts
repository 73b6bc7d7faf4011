import { vi } from 'vitest';

export interface Recorded {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: unknown;
}

interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Responder = (req: Recorded) => Reply | Promise<Reply>;

/** Replaces fetch with a function answering from `respond`, and records every request. */
export function stubFetch(respond: Responder): Recorded[] {
  const calls: Recorded[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (url: string, init: RequestInit = {}) => {
      const req: Recorded = {
        url,
        method: init.method ?? 'GET',
        headers: (init.headers ?? {}) as Record<string, string>,
        body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      };
      calls.push(req);
      const r = await respond(req);
      const isProblem = r.status >= 400;
      return new Response(r.body === undefined ? null : JSON.stringify(r.body), {
        status: r.status,
        headers: { 'content-type': isProblem ? 'application/problem+json' : 'application/json', ...r.headers },
      });
    }),
  );
  return calls;
}
