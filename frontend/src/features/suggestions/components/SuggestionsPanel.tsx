import { useOnline } from '@/lib/online';
import { useState } from 'react';
import { errorMessage } from '@/lib/api-client';
import { formatDue } from '@/lib/dates';
import type { Suggestion, SuggestionItem } from '@/lib/types';
import { groupByKind, KIND_LABELS, openTotal, proposedDue, useAnswerItem, useResolveSuggestion, useSuggestions } from '../api';
import { type CardActions, SuggestionCard } from './SuggestionCard';

interface Props {
  agentsEnabled: boolean | undefined;
  onError: (message: string) => void;
  onDone: (message: string) => void;
  onOpenTask: (taskId: string) => void;
  now: Date;
  timeZone: string;
}

export function SuggestionsPanel({ agentsEnabled, onError, onDone, onOpenTask, now, timeZone }: Props) {
  const q = useSuggestions();
  const resolve = useResolveSuggestion();
  const online = useOnline();
  const answer = useAnswerItem();
  // Answers to single items change the card in place; this says what happened to a screen reader.
  const [announcement, setAnnouncement] = useState('');
  const total = q.data ? openTotal(q.data) : 0;
  const when = (dueAt: string) => formatDue(dueAt, now, timeZone);
  const fail = (e: unknown) => onError(errorMessage(e));

  const accepted = (s: Suggestion, dueAt?: string) => {
    const due = dueAt ?? proposedDue(s.proposedChange);
    if (s.items.length > 0) return s.kind === 'daily_plan' ? 'Plan accepted.' : 'Tasks moved.';
    return due ? `Moved to ${when(due)}.` : 'Suggestion applied.';
  };

  const actions: CardActions = {
    accept: (s, dueAt) =>
      resolve.mutate({ id: s.id, action: 'accept', dueAt }, { onSuccess: () => onDone(accepted(s, dueAt)), onError: fail }),
    dismiss: (s) => resolve.mutate({ id: s.id, action: 'dismiss' }, { onSuccess: () => onDone('Suggestion dismissed.'), onError: fail }),
    acceptItem: (s: Suggestion, item: SuggestionItem, dueAt?: string) => {
      const due = dueAt ?? proposedDue(item.proposedChange);
      answer.mutate(
        { id: s.id, taskId: item.taskId, action: 'accept', dueAt },
        {
          onSuccess: () =>
            setAnnouncement(
              s.kind === 'daily_plan' ? `“${item.taskTitle}” planned.` : `“${item.taskTitle}” moved${due ? ` to ${when(due)}` : ''}.`,
            ),
          onError: fail,
        },
      );
    },
    skipItem: (s, item) =>
      answer.mutate(
        { id: s.id, taskId: item.taskId, action: 'skip' },
        { onSuccess: () => setAnnouncement(`“${item.taskTitle}” skipped.`), onError: fail },
      ),
    openTask: onOpenTask,
  };

  return (
    // Focusable because the panel scrolls: offline, when every answer in it is disabled, the
    // keyboard still needs a way to scroll through it.
    <section className="panel suggestions" aria-labelledby="suggestions-title" data-testid="suggestions" tabIndex={0}>
      <h2 id="suggestions-title">
        Suggestions {total > 0 && <span className="count" aria-label={`${total} open`}>{total}</span>}
      </h2>
      <p className="sr-only" role="status" aria-live="polite">
        {announcement}
      </p>
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
                <SuggestionCard key={s.id} suggestion={s} actions={actions} now={now} timeZone={timeZone} online={online} />
              ))}
            </ul>
          </div>
        ))
      )}
    </section>
  );
}
