import { StyleSheet, Text, View } from 'react-native';

import { useSession } from '@/auth/session';
import { Button } from '@/components/ui/Button';
import { colors, spacing } from '@/components/ui/theme';
import { dictionaries, fill, LANGUAGES, useI18n } from '@/i18n';

export default function SettingsScreen() {
  const { t, language, setLanguage } = useI18n();
  const { session, signOut } = useSession();
  return (
    <View style={styles.container} testID="settings-screen">
      {session.user ? (
        <Text style={styles.text}>{fill(t.settings.signedInAs, { email: session.user.email })}</Text>
      ) : null}
      <Text style={styles.heading}>{t.settings.language}</Text>
      <View style={styles.languages}>
        {LANGUAGES.map((code) => (
          <Button
            key={code}
            title={dictionaries[code].languageName}
            onPress={() => setLanguage(code)}
            variant={code === language ? 'primary' : 'secondary'}
            testID={`language-${code}`}
          />
        ))}
      </View>
      <Button title={t.settings.signOut} onPress={() => void signOut()} variant="danger" testID="sign-out" />
    </View>
  );
}

const styles = StyleSheet.create({
  container: { flex: 1, padding: spacing.xl, gap: spacing.lg, backgroundColor: colors.background },
  heading: { fontSize: 17, fontWeight: '600', color: colors.text },
  text: { fontSize: 15, color: colors.muted },
  languages: { flexDirection: 'row', gap: spacing.sm, flexWrap: 'wrap' },
});
