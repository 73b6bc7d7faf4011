import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { queryKeys } from '@/lib/query-keys';
import { stubFetch } from '@/test/fetch';
import { AccountSection } from '../components/AccountSection';

function renderSection(onSaved: (m: string) => void = () => {}) {
  const qc = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  qc.setQueryData(queryKeys.me, { id: 'u1', email: 'ada@example.com', displayName: null, createdAt: '2026-12-01T00:00:00Z' });
  render(
    <QueryClientProvider client={qc}>
      <AccountSection onSaved={onSaved} />
    </QueryClientProvider>,
  );
  return qc;
}

describe('AccountSection', () => {
  it('checks the new password before sending, then changes it', async () => {
    const calls = stubFetch(() => ({ status: 204 }));
    const saved: string[] = [];
    renderSection((m) => saved.push(m));
    await userEvent.type(screen.getByLabelText('Current password'), 'old secret');
    await userEvent.type(screen.getByLabelText('New password'), 'new secret');
    await userEvent.type(screen.getByLabelText('Confirm new password'), 'new secrex');
    await userEvent.click(screen.getByRole('button', { name: 'Change password' }));
    expect(screen.getByText('The passwords do not match.')).toBeInTheDocument();
    expect(calls).toHaveLength(0);
    await userEvent.clear(screen.getByLabelText('Confirm new password'));
    await userEvent.type(screen.getByLabelText('Confirm new password'), 'new secret');
    await userEvent.click(screen.getByRole('button', { name: 'Change password' }));
    await expect.poll(() => saved).toEqual(['Password changed. Your other devices were signed out.']);
    expect(calls[0]).toMatchObject({ method: 'POST', url: '/api/v1/account/password', body: { currentPassword: 'old secret', newPassword: 'new secret' } });
  });

  it('deletes the account only with its password, and shows a wrong one beside the field', async () => {
    const calls = stubFetch((req) =>
      (req.body as { password: string }).password === 'wrong'
        ? { status: 400, body: { code: 'validation_failed', detail: 'invalid', errors: [{ field: 'password', message: "is not this account's password" }] } }
        : { status: 204 },
    );
    const qc = renderSection();
    await userEvent.click(screen.getByRole('button', { name: 'Delete my account…' }));
    const dialog = screen.getByRole('dialog', { name: 'Delete your account?' });
    const confirm = within(dialog).getByRole('button', { name: 'Delete my account' });
    expect(confirm).toBeDisabled();
    await userEvent.type(within(dialog).getByLabelText('Password'), 'wrong');
    await userEvent.click(confirm);
    expect(await within(dialog).findByText("Is not this account's password.")).toBeInTheDocument();
    await userEvent.clear(within(dialog).getByLabelText('Password'));
    await userEvent.type(within(dialog).getByLabelText('Password'), 'right one');
    await userEvent.click(confirm);
    await expect.poll(() => qc.getQueryData(queryKeys.me)).toBeNull();
    expect(calls.at(-1)).toMatchObject({ method: 'DELETE', url: '/api/v1/account', body: { password: 'right one' } });
  });

  it('offers the export as a download link', () => {
    stubFetch(() => ({ status: 200, body: {} }));
    renderSection();
    expect(screen.getByRole('link', { name: 'Download my data' })).toHaveAttribute('href', '/api/v1/account/export');
  });
});
