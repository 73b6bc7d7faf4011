import { useId } from 'react';
import { Field } from '@/components/field';
import { WEEKDAYS, type Weekday } from '@/lib/types';
import { MAX_PLAN_SIZE, toggleDay, type PreferencesErrors, type PreferencesForm } from '../form';

const DAY_NAMES: Record<Weekday, string> = {
  mon: 'Monday',
  tue: 'Tuesday',
  wed: 'Wednesday',
  thu: 'Thursday',
  fri: 'Friday',
  sat: 'Saturday',
  sun: 'Sunday',
};

type WorkingHours = Pick<PreferencesForm, 'workDays' | 'workStart' | 'workEnd' | 'dailyPlanSize'>;

interface Props {
  values: WorkingHours;
  errors: PreferencesErrors;
  onChange: (patch: Partial<WorkingHours>) => void;
}

/** The working days and hours, and the size of the daily plan: part of the preferences form. */
export function WorkingHoursFields({ values, errors, onChange }: Props) {
  const id = useId();
  return (
    <>
      <h2>Working hours</h2>
      <p className="field-hint">
        The assistants propose new dates and build your daily plan within these hours, in your time zone.
      </p>
      <fieldset className="weekdays" aria-describedby={errors.workDays ? `${id}-days-error` : undefined}>
        <legend>Working days</legend>
        {WEEKDAYS.map((d) => (
          <label key={d} className="chip-check">
            <input type="checkbox" checked={values.workDays.includes(d)} onChange={(e) => onChange({ workDays: toggleDay(values.workDays, d, e.target.checked) })} />
            <span aria-hidden="true">{d.charAt(0).toUpperCase() + d.slice(1)}</span>
            <span className="sr-only">{DAY_NAMES[d]}</span>
          </label>
        ))}
        {errors.workDays && (
          <p id={`${id}-days-error`} className="field-error">
            {errors.workDays}
          </p>
        )}
      </fieldset>
      <div className="row">
        <Field label="Day starts" error={errors.workStart}>
          {(p) => <input {...p} type="time" required value={values.workStart} onChange={(e) => onChange({ workStart: e.target.value })} />}
        </Field>
        <Field label="Day ends" error={errors.workEnd}>
          {(p) => <input {...p} type="time" required value={values.workEnd} onChange={(e) => onChange({ workEnd: e.target.value })} />}
        </Field>
      </div>
      <Field label="Tasks in the daily plan" error={errors.dailyPlanSize} hint="At most this many tasks each working morning; 0 turns the daily plan off.">
        {(p) => (
          <input
            {...p}
            type="number"
            min={0}
            max={MAX_PLAN_SIZE}
            step={1}
            inputMode="numeric"
            value={values.dailyPlanSize}
            onChange={(e) => onChange({ dailyPlanSize: e.target.value })}
          />
        )}
      </Field>
    </>
  );
}
