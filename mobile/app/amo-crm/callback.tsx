import { Redirect, useLocalSearchParams, useRouter } from 'expo-router';
import { useEffect, useMemo, useRef, useState } from 'react';
import { View } from 'react-native';

import { useSession } from '@/auth/session';
import { forgetReturnUrl, parseReturnParams } from '@/components/amo-crm/returnUrl';
import { useAmoCrmReturn } from '@/components/amo-crm/useAmoCrmReturn';
import { Button } from '@/components/ui/Button';
import { LoadingView, MessageView } from '@/components/ui/StateViews';
import { useI18n } from '@/i18n';

/**
 * Where the backend (or, in exchange-code mode, amoCRM) sends the broker back to:
 * `<scheme>://amo-crm/callback` on a phone, `/amo-crm/callback` in the web app.
 *
 * No auth-guard redirect runs before the return is applied (the session may still be loading
 * after a cold start), and applying the same return twice changes nothing: the screen handles
 * one URL once, and the handler itself shares one request per return ticket or amoCRM code.
 * In a browser the URL is taken out of the address bar and history as soon as it is read.
 */
export default function AmoCrmCallbackScreen() {
  const { t } = useI18n();
  const router = useRouter();
  const { session } = useSession();
  const params = useLocalSearchParams();
  const paramsKey = JSON.stringify(params);
  // eslint-disable-next-line react-hooks/exhaustive-deps -- params is a new object on every render
  const outcome = useMemo(() => parseReturnParams(params), [paramsKey]);
  const { handle } = useAmoCrmReturn();
  const handledKey = useRef<string | null>(null);
  const mounted = useRef(true);
  const [done, setDone] = useState(false);

  useEffect(() => {
    forgetReturnUrl();
  }, [paramsKey]);

  useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  useEffect(() => {
    if (session.status !== 'signedIn' || handledKey.current === paramsKey) return;
    handledKey.current = paramsKey;
    void handle(outcome).finally(() => {
      if (mounted.current) setDone(true);
    });
  }, [handle, outcome, paramsKey, session.status]);

  if (session.status === 'signedOut') {
    return (
      <View style={{ flex: 1 }}>
        <MessageView title={t.amo.authTitle} text={t.amo.callbackSignedOut} testID="amo-callback-signed-out" />
        <Button title={t.signIn.submit} onPress={() => router.replace('/sign-in')} testID="amo-callback-sign-in" />
      </View>
    );
  }
  if (!done) return <LoadingView testID="amo-callback-checking" />;
  return <Redirect href="/crm" />;
}
