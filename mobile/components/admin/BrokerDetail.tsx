import { useMemo, useState } from 'react';
import { ActivityIndicator, FlatList, StyleSheet, Text, View } from 'react-native';

import { useBroker, useBrokerEvents, useRequestReconnect, useUnlinkBroker } from '@/api/admin';
import { isApiError } from '@/api/client';
import type { Broker, BrokerEvent } from '@/api/types';
import { fill, type Messages, useI18n } from '@/i18n';

import { LOCALES, formatDateTime } from '../crm/format';
import { Button } from '../ui/Button';
import { FormField } from '../ui/FormField';
import { InlineConfirm } from '../ui/InlineConfirm';
import { ErrorView, LoadingView, MessageView } from '../ui/StateViews';
import { colors, spacing } from '../ui/theme';
import { amoUserText, reasonText } from './format';
import { BrokerStateBadge } from './StateBadge';

/** What the admin is doing on this screen: nothing yet, or one of the two questions. */
type Step = 'idle' | 'unlink' | 'reconnect';

/** States with a connection (live or broken) an unlink can end. */
const UNLINKABLE = new Set<Broker['state']>(['active', 'reauth_required', 'revoked']);

const NOTE_MAX = 500;

function eventTitle(t: Messages, kind: string): string {
  const events = t.admin.broker.events;
  return kind in events ? events[kind as keyof typeof events] : fill(events.other, { kind });
}

export function BrokerDetail({ userId }: { userId: string }) {
  const { t, language } = useI18n();
  const locale = LOCALES[language];
  const broker = useBroker(userId);
  const events = useBrokerEvents(userId);
  const items = useMemo(() => events.data?.pages.flatMap((page) => page.items) ?? [], [events.data]);

  if (broker.isPending) return <LoadingView testID="admin-broker-loading" />;
  if (broker.isError && !broker.data) {
    return <ErrorView title={t.admin.broker.error} error={broker.error} onRetry={() => void broker.refetch()} testID="admin-broker-error" />;
  }
  if (!broker.data) {
    return <MessageView title={t.admin.broker.title} text={t.admin.broker.notFound} testID="admin-broker-not-found" />;
  }

  const loadMore = () => {
    if (events.hasNextPage && !events.isFetchingNextPage && !events.isFetchNextPageError) void events.fetchNextPage();
  };
  const footer = events.isPending || events.isFetchingNextPage ? (
    <ActivityIndicator color={colors.primary} style={styles.footer} testID="admin-events-loading" />
  ) : events.isError ? (
    <View style={styles.footer} testID="admin-events-error">
      <Text style={styles.muted}>{items.length ? t.admin.loadMoreError : t.admin.broker.eventsError}</Text>
      <Button
        title={t.common.retry}
        variant="secondary"
        onPress={() => void (items.length ? events.fetchNextPage() : events.refetch())}
        testID="admin-events-retry"
      />
    </View>
  ) : null;

  return (
    <FlatList
      data={items}
      keyExtractor={(event) => event.id}
      renderItem={({ item }) => <EventRow event={item} locale={locale} />}
      ListHeaderComponent={<BrokerHeader broker={broker.data} locale={locale} />}
      ListEmptyComponent={
        events.isSuccess ? (
          <Text style={styles.muted} testID="admin-events-empty">
            {t.admin.broker.noEvents}
          </Text>
        ) : null
      }
      ListFooterComponent={footer}
      onEndReached={loadMore}
      onEndReachedThreshold={0.5}
      contentContainerStyle={styles.content}
      keyboardShouldPersistTaps="handled"
      testID="admin-broker-detail"
    />
  );
}

function BrokerHeader({ broker, locale }: { broker: Broker; locale: string }) {
  const { t } = useI18n();
  const [step, setStep] = useState<Step>('idle');
  const [note, setNote] = useState('');
  const [done, setDone] = useState<string | null>(null);
  const unlink = useUnlinkBroker();
  const reconnect = useRequestReconnect();
  const date = (iso: string | null) => formatDateTime(iso, locale);

  const facts: [label: string, value: string | null, testID: string][] = [
    [t.admin.broker.email, broker.email, 'email'],
    [t.admin.broker.amoUser, amoUserText(t, broker.amoUserName, broker.amoUserId), 'amo-user'],
    [t.admin.broker.domain, broker.domain, 'domain'],
    [t.admin.broker.reason, reasonText(t, broker.reason), 'reason'],
    [t.admin.broker.lastActive, date(broker.lastActiveAt), 'last-active'],
    [t.admin.broker.connectedSince, date(broker.connectedSince), 'connected-since'],
    [t.admin.broker.lastRefresh, date(broker.lastRefreshedAt), 'last-refresh'],
    [
      t.admin.broker.lastError,
      broker.lastError ? `${broker.lastError}${broker.lastErrorAt ? ` · ${date(broker.lastErrorAt)}` : ''}` : null,
      'last-error',
    ],
  ];

  const start = (next: Step) => {
    setDone(null);
    unlink.reset();
    reconnect.reset();
    setStep(next);
  };

  const reconnectError = reconnect.isError
    ? isApiError(reconnect.error, 'not_a_crm_user')
      ? t.admin.broker.notCrmUser
      : t.admin.broker.requestFailed
    : null;

  return (
    <View style={styles.header}>
      <View style={styles.card}>
        <View style={styles.titleRow}>
          <Text style={styles.name} accessibilityRole="header">
            {broker.name}
          </Text>
          <BrokerStateBadge state={broker.state} testID="admin-broker-state" />
        </View>
        {facts.map(([label, value, id]) =>
          value ? (
            <View key={id} style={styles.fact}>
              <Text style={styles.factLabel}>{label}</Text>
              <Text style={styles.factValue} testID={`admin-broker-${id}`}>
                {value}
              </Text>
            </View>
          ) : null,
        )}
        {broker.reconnectRequested ? (
          <View style={styles.pending} testID="admin-broker-reconnect-pending">
            <Text style={styles.pendingText}>{t.admin.broker.pendingRequest}</Text>
            {broker.reconnectNote ? (
              <Text style={styles.pendingNote}>{fill(t.admin.broker.pendingNote, { note: broker.reconnectNote })}</Text>
            ) : null}
          </View>
        ) : null}
      </View>

      {done ? (
        <Text style={styles.done} accessibilityRole="alert" testID="admin-broker-done">
          {done}
        </Text>
      ) : null}

      {step === 'idle' ? (
        <View style={styles.actions}>
          <Button
            title={t.admin.broker.requestReconnect}
            onPress={() => start('reconnect')}
            variant="secondary"
            testID="admin-request-reconnect"
          />
          {UNLINKABLE.has(broker.state) ? (
            <Button title={t.admin.broker.unlink} onPress={() => start('unlink')} variant="danger" testID="admin-unlink" />
          ) : null}
        </View>
      ) : null}

      {step === 'unlink' ? (
        <InlineConfirm
          title={fill(t.admin.broker.unlinkTitle, { name: broker.name })}
          text={t.admin.broker.unlinkText}
          confirmLabel={t.admin.broker.unlinkConfirm}
          busy={unlink.isPending}
          error={unlink.isError ? t.admin.broker.unlinkFailed : null}
          onCancel={() => setStep('idle')}
          onConfirm={() =>
            unlink.mutate(broker.userId, {
              onSuccess: () => {
                setStep('idle');
                setDone(t.admin.broker.unlinkDone);
              },
            })
          }
          testID="admin-unlink-dialog"
        />
      ) : null}

      {step === 'reconnect' ? (
        <View style={styles.card} testID="admin-reconnect-form">
          <Text style={styles.formTitle} accessibilityRole="header">
            {fill(t.admin.broker.requestTitle, { name: broker.name })}
          </Text>
          <Text style={styles.muted}>{t.admin.broker.requestText}</Text>
          <FormField
            label={t.admin.broker.noteLabel}
            value={note}
            onChangeText={setNote}
            placeholder={t.admin.broker.notePlaceholder}
            maxLength={NOTE_MAX}
            multiline
            testID="admin-reconnect-note"
          />
          <View style={styles.actions}>
            <Button title={t.common.cancel} onPress={() => setStep('idle')} variant="secondary" testID="admin-reconnect-cancel" />
            <Button
              title={t.admin.broker.send}
              busy={reconnect.isPending}
              onPress={() =>
                reconnect.mutate(
                  { userId: broker.userId, note: note.trim() || undefined },
                  {
                    onSuccess: () => {
                      setStep('idle');
                      setNote('');
                      setDone(t.admin.broker.requestDone);
                    },
                  },
                )
              }
              testID="admin-reconnect-send"
            />
          </View>
          {reconnectError ? (
            <Text style={styles.error} testID="admin-reconnect-error">
              {reconnectError}
            </Text>
          ) : null}
        </View>
      ) : null}

      <Text style={styles.section} accessibilityRole="header">
        {t.admin.broker.timeline}
      </Text>
    </View>
  );
}

function EventRow({ event, locale }: { event: BrokerEvent; locale: string }) {
  const { t } = useI18n();
  const reason = event.reason ? fill(t.admin.broker.eventReason, { reason: reasonText(t, event.reason) ?? event.reason }) : null;
  return (
    <View style={styles.event} testID={`admin-event-${event.kind}`}>
      <View style={styles.eventDot} />
      <View style={styles.eventBody}>
        <Text style={styles.eventTitle}>{eventTitle(t, event.kind)}</Text>
        <Text style={styles.muted}>{[formatDateTime(event.createdAt, locale), reason].filter(Boolean).join(' · ')}</Text>
      </View>
    </View>
  );
}

const styles = StyleSheet.create({
  content: { padding: spacing.lg, gap: spacing.sm },
  header: { gap: spacing.md, paddingBottom: spacing.sm },
  card: { backgroundColor: colors.surface, borderRadius: 12, padding: spacing.md, gap: spacing.sm },
  titleRow: { flexDirection: 'row', alignItems: 'center', justifyContent: 'space-between', gap: spacing.sm, flexWrap: 'wrap' },
  name: { fontSize: 20, fontWeight: '700', color: colors.text, flexShrink: 1 },
  fact: { gap: 2 },
  factLabel: { fontSize: 13, color: colors.muted },
  factValue: { fontSize: 15, color: colors.text },
  pending: { backgroundColor: colors.warningBackground, borderRadius: 8, padding: spacing.sm, gap: 2 },
  pendingText: { fontSize: 14, fontWeight: '600', color: colors.warning },
  pendingNote: { fontSize: 14, color: colors.text },
  actions: { flexDirection: 'row', flexWrap: 'wrap', gap: spacing.sm },
  formTitle: { fontSize: 16, fontWeight: '700', color: colors.text },
  done: { backgroundColor: colors.successBackground, color: colors.success, borderRadius: 10, padding: spacing.md, fontSize: 15 },
  error: { fontSize: 14, color: colors.danger },
  section: { fontSize: 17, fontWeight: '700', color: colors.text, marginTop: spacing.sm },
  event: { flexDirection: 'row', gap: spacing.md, backgroundColor: colors.surface, borderRadius: 10, padding: spacing.md },
  eventDot: { width: 10, height: 10, borderRadius: 5, backgroundColor: colors.primary, marginTop: 5 },
  eventBody: { flex: 1, gap: 2 },
  eventTitle: { fontSize: 15, fontWeight: '600', color: colors.text },
  muted: { fontSize: 13, color: colors.muted },
  footer: { padding: spacing.lg, alignItems: 'center', gap: spacing.sm },
});
