import { useState } from 'react';
import { ScrollView, StyleSheet, Text, View } from 'react-native';

import { useAmoCrmStatus } from '@/api/amo-crm';
import { useAdoptMyConnection, useAgencyConnection, useRemoveAgency, useSetAgencyToken } from '@/api/admin';
import { isApiError } from '@/api/client';
import { type AgencyConnection, isAgencyErrorCode } from '@/api/types';
import { fill, type Messages, useI18n } from '@/i18n';

import { LOCALES, formatDateTime } from '../crm/format';
import { Button } from '../ui/Button';
import { FormField } from '../ui/FormField';
import { InlineConfirm } from '../ui/InlineConfirm';
import { ErrorView, LoadingView } from '../ui/StateViews';
import { colors, spacing } from '../ui/theme';
import { formatDay } from './format';
import { AGENCY_HEALTH_TONE, Badge } from './StateBadge';

/** A refusal of the agency connection in words the admin can act on. */
export function agencyErrorMessage(t: Messages, error: unknown): string {
  const code = isApiError(error) ? error.code : 'unknown';
  return isAgencyErrorCode(code) ? t.admin.agency.errors[code] : t.admin.agency.errors.unknown;
}

/**
 * The agency's amoCRM connection (account-level work only: the users catalogue that names the
 * brokers): its health and expiry, a banner before and after it expires, a form for a long-lived
 * token, the admin's own connection as an alternative, and removal.
 */
export function AgencySection() {
  const { t } = useI18n();
  const agency = useAgencyConnection();

  if (agency.isPending) return <LoadingView testID="agency-loading" />;
  if (agency.isError) {
    return <ErrorView title={t.admin.agency.error} error={agency.error} onRetry={() => void agency.refetch()} testID="agency-error" />;
  }
  return (
    <ScrollView contentContainerStyle={styles.container} keyboardShouldPersistTaps="handled" testID="admin-agency">
      <AgencyBanner agency={agency.data} />
      <AgencyCard agency={agency.data} />
      <TokenForm />
    </ScrollView>
  );
}

function AgencyBanner({ agency }: { agency: AgencyConnection }) {
  const { t, language } = useI18n();
  const text =
    agency.health === 'expiring' || agency.expiringSoon
      ? fill(t.admin.agency.expiringBanner, { date: formatDay(agency.expiresAt, LOCALES[language]) ?? '—' })
      : agency.health === 'expired'
        ? t.admin.agency.expiredBanner
        : agency.health === 'revoked'
          ? t.admin.agency.revokedBanner
          : null;
  if (!text) return null;
  const urgent = agency.health !== 'expiring' && !agency.expiringSoon;
  return (
    <View style={[styles.banner, urgent ? styles.bannerBad : styles.bannerWarning]} accessibilityRole="alert" testID="agency-banner">
      <Text style={[styles.bannerText, urgent ? styles.bad : styles.warning]}>{text}</Text>
    </View>
  );
}

function AgencyCard({ agency }: { agency: AgencyConnection }) {
  const { t, language } = useI18n();
  const locale = LOCALES[language];
  const [step, setStep] = useState<'idle' | 'remove'>('idle');
  const [done, setDone] = useState<string | null>(null);
  const remove = useRemoveAgency();
  const adopt = useAdoptMyConnection();
  const myStatus = useAmoCrmStatus();
  const facts: [label: string, value: string | null, id: string][] = [
    [t.admin.agency.account, agency.domain, 'domain'],
    [t.admin.agency.user, agency.amoUserName ?? (agency.amoUserId !== null ? `#${agency.amoUserId}` : null), 'user'],
    [t.admin.agency.expiresAt, formatDay(agency.expiresAt, locale), 'expires'],
    [t.admin.agency.token, agency.tokenLast4 ? fill(t.admin.agency.tokenLast4, { last4: agency.tokenLast4 }) : null, 'last4'],
    [t.admin.agency.lastChecked, formatDateTime(agency.lastCheckedAt, locale), 'checked'],
  ];

  return (
    <View style={styles.card} testID="agency-card">
      <Text style={styles.title} accessibilityRole="header">
        {t.admin.agency.title}
      </Text>
      <View style={styles.row}>
        <Badge label={t.admin.agency.health[agency.health]} tone={AGENCY_HEALTH_TONE[agency.health]} testID="agency-health" />
        {agency.source ? <Text style={styles.muted}>{t.admin.agency.source[agency.source]}</Text> : null}
      </View>
      {facts.map(([label, value, id]) =>
        value ? (
          <View key={id} style={styles.fact}>
            <Text style={styles.muted}>{label}</Text>
            <Text style={styles.value} testID={`agency-${id}`}>
              {value}
            </Text>
          </View>
        ) : null,
      )}
      <Text style={styles.muted}>{t.admin.agency.explain}</Text>
      {done ? (
        <Text style={styles.done} accessibilityRole="alert" testID="agency-done">
          {done}
        </Text>
      ) : null}
      {myStatus.data?.state === 'connected' && agency.source !== 'oauth' ? (
        <View style={styles.fact}>
          <Button
            title={t.admin.agency.useMine}
            variant="secondary"
            busy={adopt.isPending}
            onPress={() => {
              setDone(null);
              adopt.mutate(undefined, { onSuccess: () => setDone(t.admin.agency.useMineDone) });
            }}
            testID="agency-use-mine"
          />
          <Text style={styles.muted}>{t.admin.agency.useMineHint}</Text>
          {adopt.isError ? (
            <Text style={styles.error} testID="agency-use-mine-error">
              {agencyErrorMessage(t, adopt.error)}
            </Text>
          ) : null}
        </View>
      ) : null}
      {agency.health !== 'none' && step === 'idle' ? (
        <Button
          title={t.admin.agency.remove}
          variant="danger"
          onPress={() => {
            remove.reset();
            setStep('remove');
          }}
          testID="agency-remove"
        />
      ) : null}
      {step === 'remove' ? (
        <InlineConfirm
          title={t.admin.agency.removeTitle}
          text={t.admin.agency.removeText}
          confirmLabel={t.admin.agency.removeConfirm}
          busy={remove.isPending}
          error={remove.isError ? t.admin.agency.errors.unknown : null}
          onCancel={() => setStep('idle')}
          onConfirm={() =>
            remove.mutate(undefined, {
              onSuccess: () => {
                setStep('idle');
                setDone(t.admin.agency.removed);
              },
            })
          }
          testID="agency-remove-dialog"
        />
      ) : null}
    </View>
  );
}

/** The long-lived token goes in once: typed hidden, sent, and forgotten (cleared) whatever the answer. */
function TokenForm() {
  const { t } = useI18n();
  const [domain, setDomain] = useState('');
  const [token, setToken] = useState('');
  const [missing, setMissing] = useState(false);
  const [saved, setSaved] = useState(false);
  const save = useSetAgencyToken();

  const submit = () => {
    setSaved(false);
    if (!domain.trim() || !token.trim()) {
      setMissing(true);
      return;
    }
    setMissing(false);
    const input = { domain: domain.trim().toLowerCase(), token: token.trim() };
    // The token leaves the screen's state at once: it is never shown again, not even after a refusal.
    setToken('');
    save.mutate(input, { onSuccess: () => setSaved(true) });
  };

  const error = missing ? t.admin.agency.missing : save.isError ? agencyErrorMessage(t, save.error) : null;
  return (
    <View style={styles.card} testID="agency-token-form">
      <Text style={styles.title} accessibilityRole="header">
        {t.admin.agency.formTitle}
      </Text>
      <Text style={styles.muted}>{t.admin.agency.formHint}</Text>
      <FormField
        label={t.admin.agency.domain}
        value={domain}
        onChangeText={setDomain}
        placeholder={t.admin.agency.domainPlaceholder}
        autoCapitalize="none"
        keyboardType="url"
        testID="agency-domain"
      />
      <FormField
        label={t.admin.agency.tokenField}
        value={token}
        onChangeText={setToken}
        placeholder={t.admin.agency.tokenPlaceholder}
        secureTextEntry
        autoCapitalize="none"
        autoComplete="off"
        textContentType="none"
        importantForAutofill="no"
        testID="agency-token"
      />
      <Button title={t.admin.agency.save} onPress={submit} busy={save.isPending} testID="agency-save" />
      {error ? (
        <Text style={styles.error} accessibilityRole="alert" testID="agency-token-error">
          {error}
        </Text>
      ) : null}
      {saved ? (
        <Text style={styles.done} accessibilityRole="alert" testID="agency-token-saved">
          {t.admin.agency.saved}
        </Text>
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  container: { gap: spacing.md, paddingBottom: spacing.xl },
  banner: { borderRadius: 10, padding: spacing.md },
  bannerWarning: { backgroundColor: colors.warningBackground },
  bannerBad: { backgroundColor: colors.dangerBackground },
  bannerText: { fontSize: 15, lineHeight: 21, fontWeight: '600' },
  warning: { color: colors.warning },
  bad: { color: colors.danger },
  card: { backgroundColor: colors.surface, borderRadius: 12, padding: spacing.md, gap: spacing.sm },
  title: { fontSize: 17, fontWeight: '700', color: colors.text },
  row: { flexDirection: 'row', alignItems: 'center', gap: spacing.sm, flexWrap: 'wrap' },
  fact: { gap: 2 },
  value: { fontSize: 15, color: colors.text },
  muted: { fontSize: 13, lineHeight: 18, color: colors.muted },
  error: { fontSize: 14, color: colors.danger },
  done: { backgroundColor: colors.successBackground, color: colors.success, borderRadius: 10, padding: spacing.md, fontSize: 14 },
});
