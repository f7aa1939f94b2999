import { useRouter } from 'expo-router';
import { StyleSheet, View } from 'react-native';

import { useAmoCrmStatus } from '@/api/amo-crm';
import { isApiError } from '@/api/client';
import type { ConnectionStatus } from '@/api/types';
import { canUseCrm, useSession } from '@/auth/session';
import { AmoCrmAuthScreen } from '@/components/amo-crm/AmoCrmAuthScreen';
import { AmoCrmAuthWebView } from '@/components/amo-crm/AmoCrmAuthWebView';
import { AmoCrmStatusBadge } from '@/components/amo-crm/AmoCrmStatusBadge';
import { ConnectNoticeBanner } from '@/components/amo-crm/ConnectNoticeBanner';
import { ReconnectRequestBanner } from '@/components/amo-crm/ReconnectRequestBanner';
import { useConnectNotice } from '@/components/amo-crm/connectNotice';
import { useAmoCrmConnect } from '@/components/amo-crm/useAmoCrmConnect';
import { CrmArea } from '@/components/crm/CrmArea';
import { ErrorView, LoadingView, MessageView } from '@/components/ui/StateViews';
import { colors } from '@/components/ui/theme';
import { type Messages, useI18n } from '@/i18n';

function reauthReason(t: Messages, status: ConnectionStatus): string {
  const reasons = t.amo.reauthReasons;
  const reason = status.reason;
  return reason && reason in reasons ? reasons[reason as keyof typeof reasons] : reasons.unknown;
}

/** The CRM tab: gated on the broker's own amoCRM connection. */
export default function CrmScreen() {
  const { t } = useI18n();
  const { session } = useSession();
  const allowed = canUseCrm(session.user);
  const status = useAmoCrmStatus({ enabled: allowed });
  const notice = useConnectNotice();
  const { connect, isConnecting, authorizeError, webView } = useAmoCrmConnect();
  const router = useRouter();

  if (!allowed || isApiError(status.error, 'forbidden')) {
    return <MessageView title={t.crm.forbiddenTitle} text={t.crm.forbiddenText} testID="crm-forbidden" />;
  }
  if (status.isPending) return <LoadingView testID="amo-status-loading" />;
  if (status.isError) {
    return (
      <ErrorView
        title={t.amo.statusError}
        error={status.error}
        onRetry={() => void status.refetch()}
        testID="amo-status-error"
      />
    );
  }

  const banner = (
    <ConnectNoticeBanner
      notice={
        authorizeError
          ? { kind: 'error', code: isApiError(authorizeError) ? authorizeError.code : 'unknown' }
          : notice
      }
    />
  );
  const webViewModal = webView.url ? (
    <AmoCrmAuthWebView authorizeUrl={webView.url} onReturn={webView.onReturn} onClose={webView.onClose} />
  ) : null;

  if (status.data.state === 'connected') {
    return (
      <View style={styles.container} testID="crm-connected">
        <CrmArea
          status={<AmoCrmStatusBadge status={status.data} brokerName={session.user?.name} />}
          notices={
            <>
              {/* "Disconnected" belongs to the connect screen; a refusal (a colleague's link opened
                  while connected) and a confirmation both belong here. */}
              {notice?.kind === 'disconnected' && !authorizeError ? null : banner}
              <ReconnectRequestBanner status={status.data} onReconnect={() => void connect()} connecting={isConnecting} />
            </>
          }
        />
        {webViewModal}
      </View>
    );
  }

  const reauth = status.data.state === 'reauth_required';
  // The agency asked for a new connection: the screen's own button says «Підключити знову».
  const requested = status.data.reconnectRequested;
  return (
    <View style={styles.gate} testID={reauth ? 'crm-reauth' : 'crm-not-connected'}>
      <AmoCrmAuthScreen
        onConnect={() => void connect()}
        onCancel={() => (router.canGoBack() ? router.back() : router.navigate('/'))}
        connecting={isConnecting}
        notice={
          <>
            <ReconnectRequestBanner status={status.data} />
            {notice?.kind === 'connected' ? null : banner}
          </>
        }
        {...(reauth
          ? { title: t.amo.reauthTitle, message: reauthReason(t, status.data), connectLabel: t.amo.reconnect }
          : requested
            ? { connectLabel: t.reconnectRequest.action }
            : {})}
      />
      {webViewModal}
    </View>
  );
}

const styles = StyleSheet.create({
  container: { flex: 1, backgroundColor: colors.background },
  gate: { flex: 1, backgroundColor: colors.background },
});
