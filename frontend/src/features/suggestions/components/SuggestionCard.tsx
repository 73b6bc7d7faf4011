/**
 * One suggestion. A reschedule proposal names its new day and can be accepted as proposed or
 * for another day; a grouped proposal or a daily plan lists its tasks, each answered on its
 * own or all at once.
 */
import { useState } from 'react';
import { formatDue, fromApiDue, relativeTime, toApiDue } from '@/lib/dates';
import type { Suggestion, SuggestionItem } from '@/lib/types';
import { formatMinutes, proposedDue, totalEstimate } from '../api';

export interface CardActions {
  /** Accept the whole suggestion, with another due time when the user picked one. */
  accept: (s: Suggestion, dueAt?: string) => void;
  dismiss: (s: Suggestion) => void;
  acceptItem: (s: Suggestion, item: SuggestionItem, dueAt?: string) => void;
  skipItem: (s: Suggestion, item: SuggestionItem) => void;
  openTask: (taskId: string) => void;
}

interface Props {
  suggestion: Suggestion;
  actions: CardActions;
  now: Date;
  timeZone: string;
}

/**
 * One suggestion. Offline (`online` false) every answer is disabled at once through the
 * fieldset: the lists are a read-only copy then, and an answer could not be sent.
 */
export function SuggestionCard({ suggestion: s, actions, now, timeZone, online = true }: Props & { online?: boolean }) {
  const due = proposedDue(s.proposedChange);
  const grouped = s.items.length > 0;
  const [picking, setPicking] = useState(false);
  return (
    <li className={`sg sg-${s.kind}`} data-suggestion-id={s.id}>
      <fieldset className="sg-body" disabled={!online}>
        <p className="sg-title">{s.title}</p>
        {s.message && s.message !== s.title && <p className="sg-message">{s.message}</p>}
        {s.explanation && s.reason ? (
          // The model's sentence may run to two lines; the facts it was written from stay at hand.
          <p className="sg-reason sg-explained muted" title={`From: ${s.reason}`}>
            {s.explanation}
          </p>
        ) : (
          s.reason && (
            <p className="sg-reason muted" title={s.reason}>
              {s.reason}
            </p>
          )
        )}
        {due && !grouped && (
          <p className="sg-proposal">
            New due: <time dateTime={due}>{formatDue(due, now, timeZone)}</time>
          </p>
        )}
        {grouped && (
          <ItemList suggestion={s} actions={actions} now={now} timeZone={timeZone} />
        )}
        <p className="sg-time muted">{relativeTime(s.createdAt, now)}</p>
        {picking && due ? (
          <PickDay
            label={s.title}
            initial={due}
            timeZone={timeZone}
            onCancel={() => setPicking(false)}
            onPick={(dueAt) => {
              setPicking(false);
              actions.accept(s, dueAt);
            }}
          />
        ) : (
          <div className="sg-actions">
            {grouped ? (
              s.items.some((i) => i.status === 'open') && (
                <button type="button" className="btn btn-small btn-primary" onClick={() => actions.accept(s)} aria-label={`Accept all: ${s.title}`}>
                  Accept all
                </button>
              )
            ) : (
              // Accepting applies the proposed change; a suggestion without one is only acknowledged.
              <button
                type="button"
                className="btn btn-small btn-primary"
                onClick={() => actions.accept(s)}
                aria-label={`${s.proposedChange ? 'Accept' : 'Got it'}: ${s.title}`}
              >
                {s.proposedChange ? 'Accept' : 'Got it'}
              </button>
            )}
            {due && !grouped && (
              <button type="button" className="btn btn-small" onClick={() => setPicking(true)} aria-label={`Pick another day: ${s.title}`}>
                Pick another day
              </button>
            )}
            <button type="button" className="btn btn-small" onClick={() => actions.dismiss(s)} aria-label={`Dismiss: ${s.title}`}>
              Dismiss
            </button>
            {s.taskId && (
              <button type="button" className="btn btn-small btn-ghost" onClick={() => actions.openTask(s.taskId!)} aria-label={`Open the task: ${s.title}`}>
                Open task
              </button>
            )}
          </div>
        )}
      </fieldset>
    </li>
  );
}

function ItemList({ suggestion: s, actions, now, timeZone }: Props) {
  const plan = s.kind === 'daily_plan';
  const estimate = totalEstimate(s.items);
  return (
    <>
      {estimate !== undefined && <p className="sg-estimate muted">About {formatMinutes(estimate)} in all</p>}
      <ul className="sg-items" aria-label={plan ? 'Planned tasks' : 'Tasks to move'}>
        {s.items.map((item) => (
          <Item key={item.taskId} suggestion={s} item={item} plan={plan} actions={actions} now={now} timeZone={timeZone} />
        ))}
      </ul>
    </>
  );
}

function Item({ suggestion: s, item, plan, actions, now, timeZone }: Omit<Props, 'suggestion'> & { suggestion: Suggestion; item: SuggestionItem; plan: boolean }) {
  const [picking, setPicking] = useState(false);
  const due = proposedDue(item.proposedChange);
  const when = due ? formatDue(due, now, timeZone) : plan ? 'Due today already' : undefined;
  const answer = item.status === 'accepted' ? (plan ? 'Planned' : 'Moved') : item.status === 'skipped' ? 'Skipped' : undefined;
  return (
    <li className={`sg-item sg-item-${item.status}`} data-task-id={item.taskId}>
      <span className="sg-item-title">{item.taskTitle}</span>
      {when && (
        <span className="sg-item-when">
          {due ? <time dateTime={due}>{when}</time> : when}
        </span>
      )}
      {item.estimateMinutes != null && <span className="sg-item-estimate muted">{formatMinutes(item.estimateMinutes)}</span>}
      <span className="sg-item-reason muted">{item.reason}</span>
      {answer ? (
        <span className="sg-item-answer">{answer}</span>
      ) : picking && due ? (
        <PickDay
          label={item.taskTitle}
          initial={due}
          timeZone={timeZone}
          onCancel={() => setPicking(false)}
          onPick={(dueAt) => {
            setPicking(false);
            actions.acceptItem(s, item, dueAt);
          }}
        />
      ) : (
        <span className="sg-item-actions">
          <button type="button" className="btn btn-small btn-primary" onClick={() => actions.acceptItem(s, item)} aria-label={`Accept: ${item.taskTitle}`}>
            Accept
          </button>
          {due && (
            <button type="button" className="btn btn-small" onClick={() => setPicking(true)} aria-label={`Pick another day: ${item.taskTitle}`}>
              Another day
            </button>
          )}
          <button type="button" className="btn btn-small" onClick={() => actions.skipItem(s, item)} aria-label={`Skip: ${item.taskTitle}`}>
            Skip
          </button>
        </span>
      )}
    </li>
  );
}

/** A native date and time picker, prefilled with the proposal, in the user's zone. */
function PickDay({ label, initial, timeZone, onPick, onCancel }: { label: string; initial: string; timeZone: string; onPick: (dueAt: string) => void; onCancel: () => void }) {
  const start = fromApiDue(initial, timeZone);
  const [date, setDate] = useState(start.date);
  const [time, setTime] = useState(start.time);
  const dueAt = toApiDue(date, time, timeZone);
  return (
    <form
      className="sg-pick"
      aria-label={`Another day for ${label}`}
      onSubmit={(e) => {
        e.preventDefault();
        if (dueAt) onPick(dueAt);
      }}
    >
      <input type="date" required value={date} onChange={(e) => setDate(e.target.value)} aria-label={`New day for ${label}`} />
      <input type="time" value={time} onChange={(e) => setTime(e.target.value)} aria-label={`Time for ${label}`} />
      <button type="submit" className="btn btn-small btn-primary" disabled={!dueAt} aria-label={`Move ${label}`}>
        Move
      </button>
      <button type="button" className="btn btn-small" onClick={onCancel} aria-label={`Cancel: ${label}`}>
        Cancel
      </button>
    </form>
  );
}
