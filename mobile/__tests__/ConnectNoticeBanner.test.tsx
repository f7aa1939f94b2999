import { act, screen } from '@testing-library/react-native';

import { ConnectNoticeBanner, NOTICE_AUTO_HIDE_MS } from '@/components/amo-crm/ConnectNoticeBanner';
import { connectNotice, useConnectNotice } from '@/components/amo-crm/connectNotice';
import { renderWithProviders } from '@/test-support/render';

function CurrentNotice() {
  return <ConnectNoticeBanner notice={useConnectNotice()} />;
}

describe('ConnectNoticeBanner', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => {
    jest.useRealTimers();
    connectNotice.clear();
  });

  test('a confirmation hides itself after a few seconds', async () => {
    connectNotice.set({ kind: 'connected' });
    await renderWithProviders(<CurrentNotice />);
    expect(screen.getByTestId('amo-connect-connected')).toBeOnTheScreen();
    await act(async () => {
      jest.advanceTimersByTime(NOTICE_AUTO_HIDE_MS);
    });
    expect(screen.queryByTestId('amo-connect-connected')).toBeNull();
  });

  test('an error stays until the next attempt', async () => {
    connectNotice.set({ kind: 'error', code: 'amo_access_denied' });
    await renderWithProviders(<CurrentNotice />, { language: 'en' });
    await act(async () => {
      jest.advanceTimersByTime(NOTICE_AUTO_HIDE_MS * 2);
    });
    expect(screen.getByTestId('amo-connect-error')).toBeOnTheScreen();
    expect(screen.queryByRole('button')).toBeNull();
  });

  test.each([
    ['uk', 'amoCRM відключено.', 'Закрити повідомлення'],
    ['en', 'amoCRM disconnected.', 'Close message'],
    ['ru', 'amoCRM отключён.', 'Закрыть сообщение'],
  ] as const)('%s: "disconnected" with a labelled close button', async (language, text, close) => {
    connectNotice.set({ kind: 'disconnected' });
    await renderWithProviders(<CurrentNotice />, { language });
    expect(screen.getByTestId('amo-connect-disconnected')).toHaveTextContent(new RegExp(`^${text}`));
    expect(screen.getByRole('button', { name: close })).toBeOnTheScreen();
  });
});
