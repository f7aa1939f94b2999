import { QueryClientProvider } from '@tanstack/react-query';
import { Stack } from 'expo-router';
import { StatusBar } from 'expo-status-bar';
import { useEffect, useState } from 'react';

import { createQueryClient } from '@/api/queryClient';
import { canUseCrm, SessionProvider, useSession } from '@/auth/session';
import { sessionExpiry } from '@/auth/sessionExpiry';
import { AssignedLeadNotice } from '@/components/live/AssignedLeadNotice';
import { useLiveUpdates } from '@/components/live/useLiveUpdates';
import { I18nProvider } from '@/i18n';

/** Live updates for a signed-in broker on every screen, and the notice they may raise. */
function LiveLayer() {
  const { session } = useSession();
  useLiveUpdates(session.status === 'signedIn' && canUseCrm(session.user));
  return <AssignedLeadNotice />;
}

export default function RootLayout() {
  const [queryClient] = useState(createQueryClient);
  useEffect(() => sessionExpiry.track(), []);
  return (
    <QueryClientProvider client={queryClient}>
      <I18nProvider>
        <SessionProvider>
          <StatusBar style="dark" />
          <Stack screenOptions={{ headerShown: false }} />
          <LiveLayer />
        </SessionProvider>
      </I18nProvider>
    </QueryClientProvider>
  );
}
