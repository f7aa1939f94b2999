import { useLocalSearchParams } from 'expo-router';

import { CrmScreenFrame } from '@/components/crm/CrmScreenFrame';
import { NewLeadFlow } from '@/components/crm/NewLeadFlow';
import { useI18n } from '@/i18n';

/** A new lead in seconds after a call: pipeline → stage → name / phone / e-mail / price / comment. */
export default function NewLeadScreen() {
  const { t } = useI18n();
  const raw = useLocalSearchParams<{ pipelineId?: string }>().pipelineId;
  const pipelineId = raw && /^\d{1,12}$/.test(raw) ? Number(raw) : null;
  return (
    <CrmScreenFrame title={t.crm.create.title} testID="new-lead-screen">
      <NewLeadFlow initialPipelineId={pipelineId} />
    </CrmScreenFrame>
  );
}
