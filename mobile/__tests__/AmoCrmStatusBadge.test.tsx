import { fireEvent, screen, waitFor } from '@testing-library/react-native';

import { amoCrmKeys } from '@/api/amo-crm';
import { crmKeys } from '@/api/crm';
import { AmoCrmStatusBadge } from '@/components/amo-crm/AmoCrmStatusBadge';
import { connected, installFakeBackend } from '@/test-support/fakeBackend';
import { renderWithProviders } from '@/test-support/render';
import { setTokenSource } from '@/api/client';

describe('AmoCrmStatusBadge', () => {
  beforeEach(() => setTokenSource(() => 'app-jwt-for-tests'));

  test('a pill that says connected, and opens who is connected and where', async () => {
    installFakeBackend();
    await renderWithProviders(<AmoCrmStatusBadge status={connected} />);
    expect(screen.getByRole('button', { name: 'Підключено до amoCRM: Олена Коваль · reforyou.amocrm.ru' })).toBeOnTheScreen();
    expect(screen.queryByTestId('amo-disconnect')).toBeNull();
    await fireEvent.press(screen.getByTestId('amo-status-badge'));
    expect(screen.getByText('Підключено до amoCRM')).toBeOnTheScreen();
    expect(screen.getByTestId('amo-connected-as')).toHaveTextContent('Олена Коваль · reforyou.amocrm.ru');
  });

  test("without amoCRM's user name it names the signed-in broker", async () => {
    installFakeBackend();
    await renderWithProviders(
      <AmoCrmStatusBadge status={{ ...connected, amoUserName: null }} brokerName="Ігор Коваль" />,
    );
    await fireEvent.press(screen.getByTestId('amo-status-badge'));
    expect(screen.getByTestId('amo-connected-as')).toHaveTextContent('Ігор Коваль · reforyou.amocrm.ru');
  });

  test('disconnect asks first; cancelling changes nothing', async () => {
    const backend = installFakeBackend();
    await renderWithProviders(<AmoCrmStatusBadge status={connected} />);
    await fireEvent.press(screen.getByTestId('amo-status-badge'));
    await fireEvent.press(screen.getByTestId('amo-disconnect'));
    expect(screen.getByText('Відключити amoCRM?')).toBeOnTheScreen();
    await fireEvent.press(screen.getByTestId('amo-disconnect-cancel'));
    expect(screen.queryByTestId('amo-disconnect-confirmation')).toBeNull();
    expect(backend.count('POST', '/integrations/amo-crm/disconnect')).toBe(0);
  });

  test('confirmed disconnect calls the backend, refreshes the status and drops CRM data', async () => {
    const backend = installFakeBackend();
    backend.status = connected;
    const { queryClient } = await renderWithProviders(<AmoCrmStatusBadge status={connected} />);
    queryClient.setQueryData(amoCrmKeys.status(), connected);
    queryClient.setQueryData(crmKeys.leads({ mine: true }), { items: [], page: 1, hasMore: false });

    await fireEvent.press(screen.getByTestId('amo-status-badge'));
    await fireEvent.press(screen.getByTestId('amo-disconnect'));
    await fireEvent.press(screen.getByTestId('amo-disconnect-confirm'));

    await waitFor(() => expect(backend.count('POST', '/integrations/amo-crm/disconnect')).toBe(1));
    await waitFor(() => expect(queryClient.getQueryState(amoCrmKeys.status())?.isInvalidated).toBe(true));
    expect(queryClient.getQueryData(crmKeys.leads({ mine: true }))).toBeUndefined();
  });

  test('a failed disconnect says so and keeps the confirmation open', async () => {
    const backend = installFakeBackend();
    backend.failOnce('POST', '/integrations/amo-crm/disconnect', 503, 'amo_upstream_unavailable');
    await renderWithProviders(<AmoCrmStatusBadge status={connected} />);
    await fireEvent.press(screen.getByTestId('amo-status-badge'));
    await fireEvent.press(screen.getByTestId('amo-disconnect'));
    await fireEvent.press(screen.getByTestId('amo-disconnect-confirm'));
    expect(await screen.findByTestId('amo-disconnect-error')).toHaveTextContent(
      'Не вдалося відключити amoCRM. Спробуйте ще раз.',
    );
    expect(screen.getByTestId('amo-disconnect-confirmation')).toBeOnTheScreen();
  });
});
