import { Redirect, Tabs } from 'expo-router';

import { canUseCrm, useSession } from '@/auth/session';
import { LoadingView } from '@/components/ui/StateViews';
import { colors } from '@/components/ui/theme';
import { useI18n } from '@/i18n';

export default function TabsLayout() {
  const { t } = useI18n();
  const { session } = useSession();

  if (session.status === 'loading') return <LoadingView testID="session-loading" />;
  if (session.status === 'signedOut') return <Redirect href="/sign-in" />;

  return (
    <Tabs screenOptions={{ tabBarActiveTintColor: colors.primary }}>
      <Tabs.Screen name="index" options={{ title: t.tabs.home, tabBarButtonTestID: 'tab-home' }} />
      <Tabs.Screen
        name="crm"
        options={{
          title: t.tabs.crm,
          tabBarButtonTestID: 'tab-crm',
          // Roles without CRM access do not see the tab; the screen itself still refuses them.
          href: canUseCrm(session.user) ? undefined : null,
        }}
      />
      <Tabs.Screen
        name="settings"
        options={{ title: t.tabs.settings, tabBarButtonTestID: 'tab-settings' }}
      />
    </Tabs>
  );
}
