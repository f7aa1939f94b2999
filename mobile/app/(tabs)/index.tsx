import { StyleSheet, Text, View } from 'react-native';

import { canUseCrm, useSession } from '@/auth/session';
import { colors, spacing } from '@/components/ui/theme';
import { fill, useI18n } from '@/i18n';

export default function HomeScreen() {
  const { t } = useI18n();
  const { session } = useSession();
  const user = session.user;
  return (
    <View style={styles.container} testID="home-screen">
      <Text style={styles.title}>{fill(t.home.greeting, { name: user?.name ?? '' })}</Text>
      {canUseCrm(user) ? <Text style={styles.text}>{t.home.crmHint}</Text> : null}
    </View>
  );
}

const styles = StyleSheet.create({
  container: { flex: 1, padding: spacing.xl, gap: spacing.md, backgroundColor: colors.background },
  title: { fontSize: 22, fontWeight: '700', color: colors.text },
  text: { fontSize: 15, color: colors.muted },
});
