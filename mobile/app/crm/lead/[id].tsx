import { useLocalSearchParams } from 'expo-router';
import { useState } from 'react';
import { View } from 'react-native';

import { useLead } from '@/api/crm';
import { isApiError } from '@/api/client';
import { CrmScreenFrame, useBackToCrm } from '@/components/crm/CrmScreenFrame';
import { LeadDetailView } from '@/components/crm/LeadDetailView';
import { Button } from '@/components/ui/Button';
import { ErrorView, LoadingView, MessageView } from '@/components/ui/StateViews';
import { spacing } from '@/components/ui/theme';
import { useI18n } from '@/i18n';

function parseId(raw: string | string[] | undefined): number | null {
  const value = Array.isArray(raw) ? raw[0] : raw;
  return value && /^\d{1,12}$/.test(value) && Number(value) > 0 ? Number(value) : null;
}

/** One lead: stage, price, contacts to call or write to, fields, tags and the timeline. */
export default function LeadScreen() {
  const { t } = useI18n();
  const id = parseId(useLocalSearchParams<{ id: string }>().id);
  return (
    <CrmScreenFrame title={t.crm.lead.title} testID="lead-screen">
      {id === null ? <NotAvailable /> : <LeadContent id={id} />}
    </CrmScreenFrame>
  );
}

/** Missing and hidden look the same: amoCRM answers both alike, and nothing about the lead leaks. */
function NotAvailable() {
  const { t } = useI18n();
  const back = useBackToCrm();
  return (
    <View style={{ flex: 1, padding: spacing.lg }}>
      <MessageView title={t.crm.lead.notAvailableTitle} text={t.crm.lead.notAvailableText} testID="lead-not-available" />
      <Button title={t.crm.lead.backToList} variant="secondary" onPress={back} testID="lead-not-available-back" />
    </View>
  );
}

function ConnectionGone() {
  const { t } = useI18n();
  const back = useBackToCrm();
  return (
    <View style={{ flex: 1, padding: spacing.lg }}>
      <MessageView title={t.amo.reauthTitle} text={t.amo.reauthReasons.unknown} testID="lead-connection-gone" />
      <Button title={t.amo.backToCrm} variant="secondary" onPress={back} testID="lead-connection-gone-back" />
    </View>
  );
}

function LeadContent({ id }: { id: number }) {
  const { t } = useI18n();
  const lead = useLead(id);
  const [refreshing, setRefreshing] = useState(false);

  if (lead.isPending) return <LoadingView testID="lead-loading" />;
  if (lead.isError) {
    if (isApiError(lead.error, 'not_found') || isApiError(lead.error, 'lead_not_found')) return <NotAvailable />;
    if (isApiError(lead.error, 'amo_reauth_required') || isApiError(lead.error, 'amo_not_connected')) {
      // The connection itself is gone: the CRM tab explains why and reconnects.
      return <ConnectionGone />;
    }
    return <ErrorView title={t.crm.lead.error} error={lead.error} onRetry={() => void lead.refetch()} testID="lead-error" />;
  }
  return (
    <LeadDetailView
      lead={lead.data}
      refreshing={refreshing}
      onRefresh={() => {
        setRefreshing(true);
        void lead.refresh().finally(() => setRefreshing(false));
      }}
    />
  );
}
