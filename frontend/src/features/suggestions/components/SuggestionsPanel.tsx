import { errorMessage } from '@/lib/api-client';
import { relativeTime } from '@/lib/dates';
import { groupByKind, KIND_LABELS, openTotal, useResolveSuggestion, useSuggestions } from '../api';

interface Props {
  agentsEnabled: boolean | undefined;
  onError: (message: string) => void;
  onDone: (message: string) => void;
  onOpenTask: (taskId: string) => void;
  now: Date;
}

export function SuggestionsPanel({ agentsEnabled, onError, onDone, onOpenTask, now }: Props) {
  const q = useSuggestions();
  const resolve = useResolveSuggestion();
  const total = q.data ? openTotal(q.data) : 0;

  const act = (id: string, action: 'accept' | 'dismiss') =>
    resolve.mutate(
      { id, action },
      {
        onSuccess: () => onDone(action === 'accept' ? 'Suggestion applied.' : 'Suggestion dismissed.'),
        onError: (e) => onError(errorMessage(e)),
      },
    );

  return (
    <section className="panel suggestions" aria-labelledby="suggestions-title" data-testid="suggestions">
      <h2 id="suggestions-title">
        Suggestions {total > 0 && <span className="count" aria-label={`${total} open`}>{total}</span>}
      </h2>
      {q.isPending ? (
        <p className="muted">Loading…</p>
      ) : q.isError ? (
        <p className="form-error">{errorMessage(q.error)}</p>
      ) : total === 0 || q.data.items.length === 0 ? (
        <p className="muted">
          {agentsEnabled === false
            ? 'The assistants are off. Turn them on in Settings to get suggestions about overdue and urgent tasks.'
            : 'No suggestions right now. The assistants watch your tasks and will speak up here when something is overdue, due soon or piling up.'}
        </p>
      ) : (
        groupByKind(q.data.items).map((g) => (
          <div key={g.kind} className="sg-group">
            <h3>
              {KIND_LABELS[g.kind] ?? g.kind} <span className="count">{q.data.openCounts[g.kind] ?? g.items.length}</span>
            </h3>
            <ul>
              {g.items.map((s) => (
                <li key={s.id} className={`sg sg-${s.kind}`} data-suggestion-id={s.id}>
                  <p className="sg-title">{s.title}</p>
                  {s.message && s.message !== s.title && <p className="sg-message">{s.message}</p>}
                  <p className="sg-time muted">{relativeTime(s.createdAt, now)}</p>
                  <div className="sg-actions">
                    {/* Accepting applies the proposed change; a suggestion without one is only acknowledged. */}
                    <button
                      type="button"
                      className="btn btn-small btn-primary"
                      onClick={() => act(s.id, 'accept')}
                      aria-label={`${s.proposedChange ? 'Accept' : 'Got it'}: ${s.title}`}
                    >
                      {s.proposedChange ? 'Accept' : 'Got it'}
                    </button>
                    <button type="button" className="btn btn-small" onClick={() => act(s.id, 'dismiss')} aria-label={`Dismiss: ${s.title}`}>
                      Dismiss
                    </button>
                    {s.taskId && (
                      <button type="button" className="btn btn-small btn-ghost" onClick={() => onOpenTask(s.taskId!)} aria-label={`Open the task: ${s.title}`}>
                        Open task
                      </button>
                    )}
                  </div>
                </li>
              ))}
            </ul>
          </div>
        ))
      )}
    </section>
  );
}
