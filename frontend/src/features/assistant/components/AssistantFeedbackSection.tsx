/**
 * Settings › Assistant feedback: each kind of advice, whether the user's dismissals paused it
 * and until when, with Resume to lift the pause (specs/spec.md, "Restraint").
 */
import { errorMessage } from '@/lib/api-client';
import { KIND_NAMES, feedbackStatus, useAssistantFeedback, useResumeKind } from '../api';

interface Props {
  timeZone: string;
  onSaved: (message: string) => void;
}

export function AssistantFeedbackSection({ timeZone, onSaved }: Props) {
  const q = useAssistantFeedback();
  const resume = useResumeKind();
  return (
    <div className="card">
      <h2>Assistant feedback</h2>
      <p className="muted">
        Dismiss a kind of advice three times in a row and the assistants pause it for a day, twice as long with each further dismissal (at most 30 days). Accepting one, or Resume, starts over. Reminders are never paused.
      </p>
      {q.isError && (
        <p className="form-error" role="alert">
          {errorMessage(q.error)}
        </p>
      )}
      {q.data && (
        <ul className="feedback-list" aria-label="Kinds of advice">
          {q.data.items.map((item) => {
            const name = KIND_NAMES[item.kind] ?? item.kind;
            return (
              <li key={item.kind}>
                <strong>{name}</strong>: {feedbackStatus(item, timeZone)}
                <span className="muted">
                  {' '}
                  (accepted {item.accepted}, dismissed {item.dismissed})
                </span>
                {(item.pausedUntil || item.dismissedInARow > 0) && (
                  <>
                    {' '}
                    <button
                      type="button"
                      className="btn"
                      aria-label={`Resume ${name}`}
                      disabled={resume.isPending}
                      onClick={() => resume.mutate(item.kind, { onSuccess: () => onSaved(`${name} resumed.`) })}
                    >
                      Resume
                    </button>
                  </>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
