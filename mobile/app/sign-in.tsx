import { Redirect } from 'expo-router';
import { useState } from 'react';
import { StyleSheet, Text, TextInput, View } from 'react-native';
import { SafeAreaView } from 'react-native-safe-area-context';

import { isApiError } from '@/api/client';
import { useSession } from '@/auth/session';
import { sessionExpiry, useSessionEnded } from '@/auth/sessionExpiry';
import { Button } from '@/components/ui/Button';
import { colors, spacing } from '@/components/ui/theme';
import { fill, useI18n } from '@/i18n';

export default function SignInScreen() {
  const { t } = useI18n();
  const { session, signIn } = useSession();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const sessionEnded = useSessionEnded();

  if (session.status === 'signedIn') return <Redirect href="/" />;

  const submit = async () => {
    if (!email.trim() || !password) {
      setError(t.signIn.missingFields);
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await signIn(email.trim(), password);
      sessionExpiry.clear();
    } catch (caught) {
      if (isApiError(caught, 'invalid_credentials')) setError(t.signIn.invalidCredentials);
      else if (isApiError(caught, 'too_many_requests')) {
        // Retry-After is in seconds; a broker reads whole minutes, at least one.
        const minutes = Math.max(1, Math.ceil((caught.retryAfter ?? 60) / 60));
        setError(fill(t.signIn.tooManyAttempts, { minutes }));
      }
      else if (isApiError(caught, 'network_error')) setError(t.common.networkError);
      else setError(t.common.genericError);
    } finally {
      setBusy(false);
    }
  };

  return (
    <SafeAreaView style={styles.safe}>
      <View style={styles.form} testID="sign-in-screen">
        <Text style={styles.title} accessibilityRole="header">
          {t.signIn.title}
        </Text>
        {sessionEnded ? (
          <View style={styles.notice} accessibilityRole="alert" testID="sign-in-session-ended">
            <Text style={styles.noticeText}>{t.signIn.sessionEnded}</Text>
          </View>
        ) : null}
        <TextInput
          style={styles.input}
          placeholder={t.signIn.email}
          placeholderTextColor={colors.placeholder}
          accessibilityLabel={t.signIn.email}
          value={email}
          onChangeText={setEmail}
          autoCapitalize="none"
          autoComplete="email"
          keyboardType="email-address"
          testID="sign-in-email"
        />
        <TextInput
          style={styles.input}
          placeholder={t.signIn.password}
          placeholderTextColor={colors.placeholder}
          accessibilityLabel={t.signIn.password}
          value={password}
          onChangeText={setPassword}
          secureTextEntry
          autoComplete="password"
          onSubmitEditing={() => void submit()}
          testID="sign-in-password"
        />
        {error ? (
          <Text style={styles.error} accessibilityRole="alert" testID="sign-in-error">
            {error}
          </Text>
        ) : null}
        <Button title={t.signIn.submit} onPress={() => void submit()} busy={busy} testID="sign-in-submit" />
      </View>
    </SafeAreaView>
  );
}

const styles = StyleSheet.create({
  safe: { flex: 1, backgroundColor: colors.background },
  form: { flex: 1, justifyContent: 'center', padding: spacing.xl, gap: spacing.md, maxWidth: 480, width: '100%', alignSelf: 'center' },
  title: { fontSize: 24, fontWeight: '700', color: colors.text, marginBottom: spacing.md },
  input: {
    minHeight: 48,
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 10,
    paddingHorizontal: spacing.md,
    backgroundColor: colors.surface,
    fontSize: 16,
    color: colors.text,
  },
  notice: { backgroundColor: colors.infoBackground, borderRadius: 10, padding: spacing.md },
  noticeText: { color: colors.text, fontSize: 15, lineHeight: 21 },
  error: { color: colors.danger, fontSize: 14 },
});
