import { fireEvent, screen } from '@testing-library/react-native';

import { crmListState } from '@/components/crm/crmListState';
import { connectedBroker, renderApp } from '@/test-support/router';

jest.mock('@/api/queryClient', () => jest.requireActual('@/test-support/queryClientWithoutRetries'));

describe('signing out', () => {
  test('the CRM tab forgets the pipeline, stage, search and new lead of the person who left', async () => {
    await connectedBroker();
    await renderApp('/settings');
    crmListState.update({ pipelineId: 7, stageId: 70, search: 'Іван', created: { id: 1, name: 'Угода' } });

    await fireEvent.press(await screen.findByTestId('sign-out'));

    expect(await screen.findByTestId('sign-in-screen')).toBeOnTheScreen();
    expect(crmListState.get()).toEqual({ pipelineId: null, stageId: null, search: '', created: null });
  });
});
