import { fireEvent, screen, userEvent } from '@testing-library/react-native';

import { AmoCrmAuthScreen } from '@/components/amo-crm/AmoCrmAuthScreen';
import { renderWithProviders } from '@/test-support/render';

describe('AmoCrmAuthScreen', () => {
  test('explains the connection in Ukrainian by default', async () => {
    await renderWithProviders(<AmoCrmAuthScreen onConnect={jest.fn()} onCancel={jest.fn()} />);
    expect(screen.getByText('Підключіть amoCRM')).toBeOnTheScreen();
    expect(screen.getByRole('button', { name: 'Підключити' })).toBeOnTheScreen();
    expect(screen.getByRole('button', { name: 'Скасувати' })).toBeOnTheScreen();
    expect(screen.getByText('Як це працює')).toBeOnTheScreen();
    expect(screen.getByText(/Натисніть «Разрешить»/)).toBeOnTheScreen();
  });

  test('"Підключити" starts connecting and "Скасувати" leaves', async () => {
    const onConnect = jest.fn();
    const onCancel = jest.fn();
    const user = userEvent.setup();
    await renderWithProviders(<AmoCrmAuthScreen onConnect={onConnect} onCancel={onCancel} />);
    await fireEvent.press(screen.getByTestId('amo-connect'));
    await user.press(screen.getByRole('button', { name: 'Скасувати' }));
    expect(onConnect).toHaveBeenCalledTimes(1);
    expect(onCancel).toHaveBeenCalledTimes(1);
  });

  test('while connecting the button is busy and cannot be pressed twice', async () => {
    const onConnect = jest.fn();
    await renderWithProviders(<AmoCrmAuthScreen onConnect={onConnect} connecting />);
    await fireEvent.press(screen.getByTestId('amo-connect'));
    expect(onConnect).not.toHaveBeenCalled();
    expect(screen.getByTestId('amo-connect')).toBeDisabled();
  });

  test('speaks English and Russian too', async () => {
    await renderWithProviders(<AmoCrmAuthScreen onConnect={jest.fn()} />, { language: 'en' });
    expect(screen.getByText('Connect amoCRM')).toBeOnTheScreen();
    await renderWithProviders(<AmoCrmAuthScreen onConnect={jest.fn()} />, { language: 'ru' });
    expect(screen.getByText('Подключите amoCRM')).toBeOnTheScreen();
  });

  test('a reconnect prompt replaces the title, text and button label', async () => {
    await renderWithProviders(
      <AmoCrmAuthScreen onConnect={jest.fn()} title="Потрібно" message="Бо так" connectLabel="Знову" />,
    );
    expect(screen.getByText('Потрібно')).toBeOnTheScreen();
    expect(screen.getByTestId('amo-auth-message')).toHaveTextContent('Бо так');
    expect(screen.getByRole('button', { name: 'Знову' })).toBeOnTheScreen();
  });
});
