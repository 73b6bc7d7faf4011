import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it } from 'vitest';
import { stubFetch } from '@/test/fetch';
import { AuthScreen } from '../AuthScreen';

function renderAuth(mode: 'signin' | 'signup') {
  const qc = new QueryClient();
  render(
    <QueryClientProvider client={qc}>
      <AuthScreen mode={mode} />
    </QueryClientProvider>,
  );
  return qc;
}

describe('AuthScreen', () => {
  it('catches a mismatched confirmation before sending anything', async () => {
    const calls = stubFetch(() => ({ status: 201, body: {} }));
    renderAuth('signup');
    await userEvent.type(screen.getByLabelText('Email'), 'ada@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'correct horse');
    await userEvent.type(screen.getByLabelText('Confirm password'), 'correct hose');
    await userEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(screen.getByLabelText('Confirm password')).toHaveAttribute('aria-invalid', 'true');
    expect(screen.getByText('The passwords do not match.')).toBeInTheDocument();
    expect(calls).toHaveLength(0);
  });

  it('shows the server’s reason next to the form', async () => {
    const calls = stubFetch(() => ({ status: 409, body: { code: 'email_taken', detail: 'an account with this email already exists; sign in instead' } }));
    renderAuth('signup');
    await userEvent.type(screen.getByLabelText('Email'), 'ada@example.com');
    await userEvent.type(screen.getByLabelText('Password'), 'correct horse');
    await userEvent.type(screen.getByLabelText('Confirm password'), 'correct horse');
    await userEvent.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByRole('alert')).toHaveTextContent('An account with this email already exists; sign in instead.');
    expect(calls[0]).toMatchObject({ url: '/api/v1/auth/signup', body: { email: 'ada@example.com', password: 'correct horse' } });
  });
});
