import { Redirect, Tabs } from 'expo-router';
import { type ColorValue, Text } from 'react-native';

import { useAmoCrmStatus } from '@/api/amo-crm';
import { dueNowCount, useTaskBoard } from '@/api/tasks';
import { canUseCrm, isAdmin, useSession } from '@/auth/session';
import { LoadingView } from '@/components/ui/StateViews';
import { colors } from '@/components/ui/theme';
import { useI18n } from '@/i18n';

/** A letter badge as the tab icon: no icon font to load, nothing to render as tofu. */
function tabIcon(letter: string) {
  function TabIcon({ color }: { color: ColorValue }) {
    return <Text style={{ color, fontSize: 16, fontWeight: '700' }}>{letter}</Text>;
  }
  return TabIcon;
}

export default function TabsLayout() {
  const { t } = useI18n();
  const { session } = useSession();
  const crm = canUseCrm(session.user);
  const status = useAmoCrmStatus({ enabled: crm });
  // The badge counts what needs the broker today; without a connection there is nothing to count.
  const board = useTaskBoard({ enabled: crm && status.data?.state === 'connected' });
  const dueNow = dueNowCount(board.data);

  if (session.status === 'loading') return <LoadingView testID="session-loading" />;
  if (session.status === 'signedOut') return <Redirect href="/sign-in" />;

  return (
    // "history": going back (the connect screen's «Скасувати», Android's back button) returns to
    // the tab the broker came from, not always to the first tab.
    <Tabs backBehavior="history" screenOptions={{ tabBarActiveTintColor: colors.primary, tabBarInactiveTintColor: colors.muted }}>
      <Tabs.Screen name="index" options={{ title: t.tabs.home, tabBarButtonTestID: 'tab-home', tabBarIcon: tabIcon('⌂') }} />
      <Tabs.Screen
        name="crm"
        options={{
          title: t.tabs.crm,
          tabBarButtonTestID: 'tab-crm',
          tabBarIcon: tabIcon('₴'),
          // Connected, the tab draws its own one-row top bar (the pipeline and the connection's
          // pill), so the navigator's "CRM" title does not take a second row from the leads.
          headerShown: status.data?.state !== 'connected',
          // Roles without CRM access do not see the tab; the screen itself still refuses them.
          href: crm ? undefined : null,
        }}
      />
      <Tabs.Screen
        name="tasks"
        options={{
          title: t.tabs.tasks,
          tabBarButtonTestID: 'tab-tasks',
          tabBarIcon: tabIcon('✓'),
          tabBarBadge: dueNow > 0 ? dueNow : undefined,
          tabBarBadgeStyle: { backgroundColor: colors.danger, color: colors.primaryText },
          href: crm ? undefined : null,
        }}
      />
      <Tabs.Screen
        name="admin"
        options={{
          title: t.admin.tabTitle,
          tabBarButtonTestID: 'tab-admin',
          tabBarIcon: tabIcon('★'),
          // Only the agency's admins see the console; the screen itself refuses anyone else.
          href: isAdmin(session.user) ? undefined : null,
        }}
      />
      <Tabs.Screen
        name="settings"
        options={{ title: t.tabs.settings, tabBarLabel: t.tabs.settingsTab, tabBarButtonTestID: 'tab-settings', tabBarIcon: tabIcon('⚙') }}
      />
    </Tabs>
  );
}
