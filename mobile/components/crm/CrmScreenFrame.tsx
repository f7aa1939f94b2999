import { Redirect, useRouter } from 'expo-router';
import type { PropsWithChildren } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';
import { SafeAreaView } from 'react-native-safe-area-context';

import { canUseCrm, useSession } from '@/auth/session';
import { useI18n } from '@/i18n';

import { LoadingView, MessageView } from '../ui/StateViews';
import { colors, MIN_TOUCH, spacing } from '../ui/theme';

/** Back to where the broker came from, or to the CRM tab when the screen was opened directly. */
export function useBackToCrm() {
  const router = useRouter();
  return () => (router.canGoBack() ? router.back() : router.replace('/crm'));
}

/**
 * A CRM screen outside the tabs (lead details, new lead): a header with a way back, and the same
 * gate as the tabs — signed out goes to sign-in, roles without CRM get a refusal, never a request.
 */
export function CrmScreenFrame({ title, children, testID }: PropsWithChildren<{ title: string; testID?: string }>) {
  const { t } = useI18n();
  const { session } = useSession();
  const back = useBackToCrm();

  if (session.status === 'loading') return <LoadingView testID="session-loading" />;
  if (session.status === 'signedOut') return <Redirect href="/sign-in" />;

  return (
    <SafeAreaView style={styles.safe} edges={['top', 'bottom']} testID={testID}>
      <View style={styles.header}>
        <Pressable accessibilityRole="button" accessibilityLabel={t.crm.lead.backToList} onPress={back} testID="crm-back" style={styles.backButton}>
          <Text style={styles.back}>‹ {t.tabs.crm}</Text>
        </Pressable>
        <Text style={styles.title} numberOfLines={1} accessibilityRole="header">
          {title}
        </Text>
      </View>
      {canUseCrm(session.user) ? (
        children
      ) : (
        <MessageView title={t.crm.forbiddenTitle} text={t.crm.forbiddenText} testID="crm-forbidden" />
      )}
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
