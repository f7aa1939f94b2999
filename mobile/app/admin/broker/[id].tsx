import { useLocalSearchParams } from 'expo-router';

import { AdminScreenFrame } from '@/components/admin/AdminScreenFrame';
import { BrokerDetail } from '@/components/admin/BrokerDetail';
import { MessageView } from '@/components/ui/StateViews';
import { useI18n } from '@/i18n';

/** One broker's connection, its timeline, and what the admin can do about it (`/admin/broker/<userId>`). */
export default function BrokerScreen() {
  const { t } = useI18n();
  const raw = useLocalSearchParams<{ id: string }>().id;
  const id = typeof raw === 'string' && /^[0-9a-fA-F-]{36}$/.test(raw) ? raw : null;
  return (
    <AdminScreenFrame title={t.admin.broker.title} testID="admin-broker-screen">
      {id ? (
        <BrokerDetail userId={id} />
      ) : (
        <MessageView title={t.admin.broker.title} text={t.admin.broker.notFound} testID="admin-broker-not-found" />
      )}
    </AdminScreenFrame>
  );
}
