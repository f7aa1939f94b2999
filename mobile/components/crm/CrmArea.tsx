import { StyleSheet, Text, View } from 'react-native';

import { useLeads } from '@/api/crm';
import { useI18n } from '@/i18n';

import { ErrorView, LoadingView } from '../ui/StateViews';
import { colors, spacing } from '../ui/theme';
import { LeadList } from './LeadList';

const LOCALES = { uk: 'uk-UA', en: 'en-GB', ru: 'ru-RU' } as const;

/** The connected broker's CRM: their own leads, read through their own amoCRM connection. */
export function CrmArea() {
  const { t, language } = useI18n();
  const leads = useLeads({ mine: true });

  return (
    <View style={styles.container}>
      <Text style={styles.title}>{t.crm.leadsTitle}</Text>
      {leads.isPending ? (
        <LoadingView testID="leads-loading" />
      ) : leads.isError ? (
        <ErrorView
          title={t.crm.leadsError}
          error={leads.error}
          onRetry={() => void leads.refetch()}
          testID="leads-error"
        />
      ) : (
        <LeadList leads={leads.data.items} locale={LOCALES[language]} />
      )}
    </View>
  );
}

const styles = StyleSheet.create({
  container: { flex: 1, gap: spacing.md },
  title: { fontSize: 18, fontWeight: '700', color: colors.text },
});
