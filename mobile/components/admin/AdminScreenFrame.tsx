import { Redirect, useRouter } from 'expo-router';
import type { PropsWithChildren } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';
import { SafeAreaView } from 'react-native-safe-area-context';

import { isAdmin, useSession } from '@/auth/session';
import { useI18n } from '@/i18n';

import { LoadingView, MessageView } from '../ui/StateViews';
import { colors, MIN_TOUCH, spacing } from '../ui/theme';

/** "Not available" for anyone but an admin: the API refuses them too (403), this says so first. */
export function AdminForbidden() {
  const { t } = useI18n();
  return <MessageView title={t.admin.forbiddenTitle} text={t.admin.forbiddenText} testID="admin-forbidden" />;
}

/**
 * An admin screen outside the tabs (a broker's detail): a header back to the admin tab, and the
 * gate — signed out goes to sign-in, any role but ADMIN gets a refusal and no request is made.
 */
export function AdminScreenFrame({ title, children, testID }: PropsWithChildren<{ title: string; testID?: string }>) {
  const { t } = useI18n();
  const { session } = useSession();
  const router = useRouter();

  if (session.status === 'loading') return <LoadingView testID="session-loading" />;
  if (session.status === 'signedOut') return <Redirect href="/sign-in" />;

  return (
    <SafeAreaView style={styles.safe} edges={['top', 'bottom']} testID={testID}>
      <View style={styles.header}>
        <Pressable
          accessibilityRole="button"
          accessibilityLabel={t.admin.broker.backLabel}
          onPress={() => (router.canGoBack() ? router.back() : router.replace('/admin'))}
          style={styles.backButton}
          testID="admin-back"
        >
          <Text style={styles.back}>‹ {t.admin.broker.back}</Text>
        </Pressable>
        <Text style={styles.title} numberOfLines={1} accessibilityRole="header">
          {title}
        </Text>
      </View>
      {isAdmin(session.user) ? children : <AdminForbidden />}
    </SafeAreaView>
  );
}

const styles = StyleSheet.create({
  safe: { flex: 1, backgroundColor: colors.background },
  header: {
    flexDirection: 'row',
    alignItems: 'center',
    gap: spacing.md,
    paddingHorizontal: spacing.lg,
    paddingVertical: spacing.md,
    borderBottomWidth: 1,
    borderBottomColor: colors.border,
    backgroundColor: colors.surface,
  },
  backButton: { minHeight: MIN_TOUCH, justifyContent: 'center' },
  back: { color: colors.primary, fontSize: 16, fontWeight: '600' },
  title: { flex: 1, fontSize: 17, fontWeight: '700', color: colors.text },
});
