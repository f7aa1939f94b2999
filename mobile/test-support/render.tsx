import { QueryClientProvider } from '@tanstack/react-query';
import { render } from '@testing-library/react-native';
import type { ReactElement } from 'react';

import { createQueryClient } from '@/api/queryClient';
import { I18nProvider, type Language } from '@/i18n';

/** A query client like the app's, without retry delays so failures show at once. */
export function testQueryClient() {
  const queryClient = createQueryClient();
  queryClient.setDefaultOptions({
    queries: { ...queryClient.getDefaultOptions().queries, retry: false, staleTime: 0, gcTime: Infinity },
    // No garbage-collection timers: they would keep jest waiting after the last test.
    mutations: { retry: false, gcTime: Infinity },
  });
  return queryClient;
}

/** Renders a component with the app's providers (fresh query cache, chosen language). */
export async function renderWithProviders(
  ui: ReactElement,
  { language = 'uk' as Language, queryClient = testQueryClient() } = {},
) {
  const result = await render(
    <QueryClientProvider client={queryClient}>
      <I18nProvider initialLanguage={language}>{ui}</I18nProvider>
    </QueryClientProvider>,
  );
  return { ...result, queryClient };
}
