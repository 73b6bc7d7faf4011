import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { fireEvent, render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { queryKeys } from '@/lib/query-keys';
import type { Preferences } from '@/lib/types';
import { stubFetch, type Recorded } from '@/test/fetch';
import { SettingsView } from '../components/SettingsView';
import { preferencesPatch, formFromPreferences, toggleDay, validatePreferences } from '../form';

const prefs: Preferences = {
  autonomousAgentsEnabled: true,
  reminderOffsetMinutes: 30,
  timeZone: 'UTC',
  workDays: ['mon', 'tue', 'wed', 'thu', 'fri'],
  workStart: '09:00',
  workEnd: '17:00',
  dailyPlanSize: 5,
};

function renderSettings() {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  qc.setQueryData(queryKeys.preferences, prefs);
  const saved: string[] = [];
  render(
    <QueryClientProvider client={qc}>
      <SettingsView theme="system" onTheme={() => {}} onSaved={(m) => saved.push(m)} onBack={() => {}} />
    </QueryClientProvider>,
  );
  return saved;
}

/** The app's requests to the preferences endpoint that change something. */
const patches = (calls: Recorded[]) => calls.filter((c) => c.method === 'PATCH' && c.url === '/api/v1/user/preferences');

/** Answers everything the settings page reads; a PATCH echoes the preferences with the change. */
function stubApi(onPatch: (body: Partial<Preferences>) => { status: number; body?: unknown } = (body) => ({ status: 200, body: { ...prefs, ...body } })) {
  return stubFetch((req) => {
    if (req.method === 'PATCH' && req.url === '/api/v1/user/preferences') return onPatch(req.body as Partial<Preferences>);
    return { status: 404, body: { code: 'not_found', detail: 'not here' } };
  });
}

const save = () => userEvent.click(screen.getByRole('button', { name: 'Save settings' }));

describe('the working hours settings', () => {
  it('shows the days with full names for screen readers, and sends only the changed days, Monday first', async () => {
    const calls = stubApi();
    const saved = renderSettings();
    const days = screen.getByRole('group', { name: 'Working days' });
    expect(within(days).getAllByRole('checkbox').map((c) => (c as HTMLInputElement).checked)).toEqual([true, true, true, true, true, false, false]);
    expect(within(days).getByText('Sat')).toHaveAttribute('aria-hidden', 'true');
    await userEvent.click(within(days).getByRole('checkbox', { name: 'Sunday' }));
    await userEvent.click(within(days).getByRole('checkbox', { name: 'Monday' }));
    await save();
    await expect.poll(() => saved).toEqual(['Settings saved.']);
    expect(patches(calls).map((c) => c.body)).toEqual([{ workDays: ['tue', 'wed', 'thu', 'fri', 'sun'] }]);
  });

  it('sends the hours and the plan size, and 0 for no plan', async () => {
    const calls = stubApi();
    const saved = renderSettings();
    fireEvent.change(screen.getByLabelText('Day starts'), { target: { value: '08:30' } });
    fireEvent.change(screen.getByLabelText('Day ends'), { target: { value: '16:00' } });
    await userEvent.clear(screen.getByLabelText('Tasks in the daily plan'));
    await userEvent.type(screen.getByLabelText('Tasks in the daily plan'), '0');
    expect(screen.getByText(/0 turns the daily plan off/)).toBeInTheDocument();
    await save();
    await expect.poll(() => saved).toEqual(['Settings saved.']);
    expect(patches(calls).map((c) => c.body)).toEqual([{ workStart: '08:30', workEnd: '16:00', dailyPlanSize: 0 }]);
  });

  it('blocks a day that ends before it starts, and a plan size out of range, without sending', async () => {
    const calls = stubApi();
    const saved = renderSettings();
    fireEvent.change(screen.getByLabelText('Day ends'), { target: { value: '08:00' } });
    await userEvent.clear(screen.getByLabelText('Tasks in the daily plan'));
    await userEvent.type(screen.getByLabelText('Tasks in the daily plan'), '21');
    await save();
    expect(screen.getByLabelText('Day ends')).toHaveAccessibleDescription('The working day must end after it starts.');
    expect(screen.getByLabelText('Tasks in the daily plan')).toHaveAccessibleDescription('Enter a number from 0 to 20.');
    expect(patches(calls)).toHaveLength(0);
    expect(saved).toEqual([]);
  });

  it('shows the server’s message beside the field it names', async () => {
    const calls = stubApi(() => ({
      status: 400,
      body: { code: 'validation_failed', detail: 'invalid', errors: [{ field: 'workStart', message: 'the working day must end after it starts' }] },
    }));
    const saved = renderSettings();
    fireEvent.change(screen.getByLabelText('Day starts'), { target: { value: '10:00' } });
    await save();
    const start = screen.getByLabelText('Day starts');
    await expect.poll(() => start.getAttribute('aria-invalid')).toBe('true');
    expect(start).toHaveAccessibleDescription('The working day must end after it starts.');
    expect(screen.getByLabelText('Day ends')).not.toHaveAttribute('aria-invalid');
    expect(patches(calls).map((c) => c.body)).toEqual([{ workStart: '10:00' }]);
    expect(saved).toEqual([]);
  });
});

describe('the preferences form', () => {
  it('keeps toggled days in week order', () => {
    expect(toggleDay(['wed', 'fri'], 'mon', true)).toEqual(['mon', 'wed', 'fri']);
    expect(toggleDay(['wed', 'fri'], 'wed', false)).toEqual(['fri']);
    expect(toggleDay([], 'sun', false)).toEqual([]);
  });

  it('accepts no working days, and checks the hours and the plan size', () => {
    const form = formFromPreferences(prefs);
    expect(validatePreferences({ ...form, workDays: [] })).toEqual({});
    expect(validatePreferences({ ...form, workStart: '17:00' })).toEqual({ workEnd: 'The working day must end after it starts.' });
    expect(validatePreferences({ ...form, workStart: '', workEnd: '' })).toEqual({
      workStart: 'Enter when the working day starts.',
      workEnd: 'Enter when the working day ends.',
    });
    for (const bad of ['', '-1', '2.5', '21']) expect(validatePreferences({ ...form, dailyPlanSize: bad }).dailyPlanSize).toBeDefined();
    expect(validatePreferences({ ...form, dailyPlanSize: '20' })).toEqual({});
  });

  it('patches nothing when the days are the same list again', () => {
    const form = formFromPreferences(prefs);
    expect(preferencesPatch(prefs, { ...form, workDays: [...prefs.workDays] })).toEqual({});
    expect(preferencesPatch(prefs, { ...form, workDays: [] })).toEqual({ workDays: [] });
  });
});
