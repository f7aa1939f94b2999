import { QueryClientProvider } from '@tanstack/react-query';
import { Stack } from 'expo-router';
import { StatusBar } from 'expo-status-bar';
import { useEffect, useState } from 'react';

import { createQueryClient } from '@/api/queryClient';
import { SessionProvider } from '@/auth/session';
import { sessionExpiry } from '@/auth/sessionExpiry';
import { I18nProvider } from '@/i18n';

export default function RootLayout() {
  const [queryClient] = useState(createQueryClient);
  useEffect(() => sessionExpiry.track(), []);
  return (
    <QueryClientProvider client={queryClient}>
      <I18nProvider>
        <SessionProvider>
          <StatusBar style="dark" />
          <Stack screenOptions={{ headerShown: false }} />
        </SessionProvider>
      </I18nProvider>
    </QueryClientProvider>
  );
}
