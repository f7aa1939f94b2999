import { useState } from 'react';
import { Linking, Pressable, RefreshControl, ScrollView, StyleSheet, Text, TextInput, View } from 'react-native';

import { useAccountCurrency, usePipelines, useUpdateLead } from '@/api/crm';
import type { LeadChange, LeadDetail, TimelineEntry } from '@/api/types';
import { fill, type Messages, useI18n } from '@/i18n';

import { AddTaskSheet } from '../tasks/AddTaskSheet';
import { Button } from '../ui/Button';
import { InlineNotice } from '../ui/InlineNotice';
import { colors, MIN_TOUCH, spacing } from '../ui/theme';
import { formatDateTime, formatMoney, LOCALES } from './format';
import { leadEditErrorMessage } from './leadEditErrors';
import { parsePrice } from './newLeadForm';
import { NoteComposer } from './NoteComposer';
import { StagePicker } from './StagePicker';

/** `tel:` keeps only what a dialler understands: digits and a leading plus. */
export function telUrl(phone: string): string {
  const trimmed = phone.trim();
  return `tel:${trimmed.startsWith('+') ? '+' : ''}${trimmed.replace(/\D/g, '')}`;
}

export function mailtoUrl(email: string): string {
  return `mailto:${email.trim()}`;
}

function text(value: unknown): string | null {
  return typeof value === 'string' && value ? value : null;
}

/** What a timeline entry says, in the app language. */
export function describeEntry(t: Messages, entry: TimelineEntry): string {
  const labels = t.crm.lead;
  if (entry.kind === 'note') {
    const notes = labels.notes as Record<string, string>;
    return notes[entry.type] ?? labels.notes.other;
  }
  if (entry.type === 'lead_status_changed') {
    return fill(labels.events.lead_status_changed, {
      from: text(entry.details.fromStageName) ?? '?',
      to: text(entry.details.toStageName) ?? '?',
    });
  }
  const events = labels.events as Record<string, string>;
  return events[entry.type] ?? fill(labels.events.other, { type: entry.type });
}

function userName(t: Messages, name: string | null, id: number | null): string {
  if (name) return name;
  if (id !== null) return fill(t.crm.lead.unknownUser, { id });
  return t.crm.lead.nobody;
}

function Section({ title, children, testID }: { title: string; children: React.ReactNode; testID?: string }) {
  return (
    <View style={styles.section} testID={testID}>
      <Text style={styles.sectionTitle}>{title}</Text>
      {children}
    </View>
  );
}

function Row({ label, value, testID }: { label: string; value: string; testID?: string }) {
  return (
    <View style={styles.row}>
      <Text style={styles.rowLabel}>{label}</Text>
      <Text style={styles.rowValue} testID={testID}>
        {value}
      </Text>
    </View>
  );
}

function SmallAction({ title, label, onPress, testID }: { title: string; label: string; onPress(): void; testID: string }) {
  return (
    <Pressable
      accessibilityRole="button"
      accessibilityLabel={label}
      onPress={onPress}
      style={({ pressed }) => [styles.smallAction, pressed && styles.pressed]}
      testID={testID}
    >
      <Text style={styles.linkText}>{title}</Text>
    </Pressable>
  );
}

type Outcome = { kind: 'error' | 'success'; text: string };

/**
 * Stage and budget, changeable in place: the change shows at once and is undone, with the
 * reason, when amoCRM or the backend refuses it.
 */
function LeadEssentials({ lead, onOutcome }: { lead: LeadDetail; onOutcome(outcome: Outcome | null): void }) {
  const { t, language } = useI18n();
  const labels = t.crm.lead;
  const locale = LOCALES[language];
  const pipelines = usePipelines();
  const currency = useAccountCurrency();
  const update = useUpdateLead(lead.id);
  const [picking, setPicking] = useState(false);
  const [priceDraft, setPriceDraft] = useState<string | null>(null);
  const price = formatMoney(lead.price, locale, currency);

  const change = (body: LeadChange) => {
    onOutcome(null);
    update.mutate(body, {
      onSuccess: () => onOutcome({ kind: 'success', text: labels.edit.saved }),
      onError: (error) => onOutcome({ kind: 'error', text: leadEditErrorMessage(t, error) }),
    });
  };
  const savePrice = () => {
    const raw = (priceDraft ?? '').trim();
    const value = raw ? parsePrice(raw) : 0;
    if (value === null) return onOutcome({ kind: 'error', text: t.crm.create.invalid.price });
    setPriceDraft(null);
    if (value !== (lead.price ?? 0)) change({ price: value });
  };

  return (
    <>
      <View style={styles.stageRow}>
        {lead.stageName ? (
          <View style={[styles.stageTag, { backgroundColor: lead.stageColor ?? colors.border }]} testID="lead-detail-stage">
            <Text style={styles.stageText}>{lead.stageName}</Text>
          </View>
        ) : null}
        {lead.pipelineName ? <Text style={styles.muted}>{lead.pipelineName}</Text> : null}
        {pipelines.data ? (
          <SmallAction
            title={labels.edit.changeStage}
            label={fill(labels.edit.changeStageLabel, { stage: lead.stageName ?? '—' })}
            onPress={() => setPicking(true)}
            testID="lead-change-stage"
          />
        ) : null}
      </View>
      {priceDraft === null ? (
        <View style={styles.row}>
          <Text style={styles.rowLabel}>{labels.price}</Text>
          <Text style={[styles.rowValue, styles.grow]} testID="lead-detail-price">
            {price ?? '—'}
          </Text>
          <SmallAction
            title={labels.edit.editPrice}
            label={labels.edit.editPriceLabel}
            onPress={() => setPriceDraft(lead.price ? String(lead.price) : '')}
            testID="lead-edit-price"
          />
        </View>
      ) : (
        <View style={styles.priceEditor}>
          <TextInput
            value={priceDraft}
            onChangeText={setPriceDraft}
            accessibilityLabel={
              currency ? fill(labels.edit.priceInput, { currency }) : labels.edit.priceInputNoCurrency
            }
            placeholder={currency ? fill(labels.edit.priceInput, { currency }) : labels.edit.priceInputNoCurrency}
            placeholderTextColor={colors.placeholder}
            inputMode="numeric"
            autoFocus
            style={styles.priceInput}
            testID="lead-price-input"
          />
          <View style={styles.priceButtons}>
            <Button title={labels.edit.save} onPress={savePrice} testID="lead-price-save" />
            <Button title={t.common.cancel} variant="secondary" onPress={() => setPriceDraft(null)} testID="lead-price-cancel" />
          </View>
        </View>
      )}
      {picking ? (
        <StagePicker
          leadName={lead.name}
          pipelines={pipelines.data ?? []}
          current={lead.pipelineId !== null && lead.stageId !== null ? { pipelineId: lead.pipelineId, stageId: lead.stageId } : null}
          onClose={() => setPicking(false)}
          onPick={({ pipelineId, stageId }) => {
            setPicking(false);
            change({ pipelineId, statusId: stageId });
          }}
        />
      ) : null}
    </>
  );
}

function LinkRow({ label, value, url, testID }: { label: string; value: string; url: string; testID: string }) {
  return (
    <Pressable
      accessibilityRole="link"
      accessibilityLabel={label}
      onPress={() => void Linking.openURL(url).catch(() => undefined)}
      style={({ pressed }) => [styles.link, pressed && styles.pressed]}
      testID={testID}
    >
      <Text style={styles.linkText}>{value}</Text>
    </Pressable>
  );
}

export function LeadDetailView({
  lead,
  refreshing,
  onRefresh,
}: {
  lead: LeadDetail;
  refreshing: boolean;
  onRefresh(): void;
}) {
  const { t, language } = useI18n();
  const labels = t.crm.lead;
  const locale = LOCALES[language];
  const created = formatDateTime(lead.createdAt, locale);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [addingTask, setAddingTask] = useState(false);

  return (
    <ScrollView
      contentContainerStyle={styles.content}
      refreshControl={<RefreshControl refreshing={refreshing} onRefresh={onRefresh} />}
      keyboardShouldPersistTaps="handled"
      testID="lead-detail"
    >
      <View style={styles.card}>
        <Text style={styles.name} testID="lead-detail-name">
          {lead.name}
        </Text>
        <LeadEssentials lead={lead} onOutcome={setOutcome} />
        <Row
          label={labels.responsible}
          value={userName(t, lead.responsibleUserName, lead.responsibleUserId)}
          testID="lead-detail-responsible"
        />
        {created ? <Row label={labels.created} value={created} testID="lead-detail-created" /> : null}
        {outcome ? (
          <InlineNotice
            kind={outcome.kind}
            text={outcome.text}
            onClose={() => setOutcome(null)}
            testID={outcome.kind === 'error' ? 'lead-edit-error' : 'lead-edit-saved'}
          />
        ) : null}
        <Button title={labels.edit.addTask} variant="secondary" onPress={() => setAddingTask(true)} testID="lead-add-task" />
      </View>
      {addingTask ? (
        <AddTaskSheet
          leadId={lead.id}
          onClose={() => setAddingTask(false)}
          onAdded={() => {
            setAddingTask(false);
            setOutcome({ kind: 'success', text: t.tasks.add.added });
          }}
        />
      ) : null}

      <Section title={labels.contacts} testID="lead-detail-contacts">
        {lead.contacts.length === 0 ? <Text style={styles.muted}>{labels.noContacts}</Text> : null}
        {lead.contacts.map((contact) => (
          <View key={contact.id} style={styles.contact} testID={`lead-contact-${contact.id}`}>
            <Text style={styles.contactName}>
              {contact.name}
              {contact.isMain ? <Text style={styles.muted}>{` · ${labels.mainContact}`}</Text> : null}
            </Text>
            {contact.phones.map((phone, index) => (
              <LinkRow
                key={`phone-${index}`}
                label={fill(labels.call, { phone: phone.value })}
                value={`☎ ${phone.value}`}
                url={telUrl(phone.value)}
                testID={`lead-phone-${contact.id}-${index}`}
              />
            ))}
            {contact.emails.map((email, index) => (
              <LinkRow
                key={`email-${index}`}
                label={fill(labels.mail, { email: email.value })}
                value={`✉ ${email.value}`}
                url={mailtoUrl(email.value)}
                testID={`lead-email-${contact.id}-${index}`}
              />
            ))}
          </View>
        ))}
      </Section>

      {lead.customFields.length > 0 ? (
        <Section title={labels.customFields} testID="lead-detail-fields">
          {lead.customFields.map((field, index) => (
            <Row key={field.id ?? `field-${index}`} label={field.name} value={field.values.join(', ')} />
          ))}
        </Section>
      ) : null}

      {lead.tags.length > 0 ? (
        <Section title={labels.tags} testID="lead-detail-tags">
          <View style={styles.tags}>
            {lead.tags.map((tag, index) => (
              <View key={tag.id ?? `tag-${index}`} style={[styles.tag, tag.color ? { backgroundColor: tag.color } : null]}>
                <Text style={styles.tagText}>{tag.name}</Text>
              </View>
            ))}
          </View>
        </Section>
      ) : null}

      <Section title={labels.timeline} testID="lead-timeline">
        <NoteComposer leadId={lead.id} />
        {lead.timeline.length === 0 ? <Text style={styles.muted}>{labels.noTimeline}</Text> : null}
        {lead.timeline.map((entry) => (
          <View key={entry.id} style={styles.entry} testID={`timeline-${entry.id}`}>
            <View style={styles.entryDot} />
            <View style={styles.entryBody}>
              <Text style={styles.entryTitle}>{describeEntry(t, entry)}</Text>
              {entry.text ? <Text style={styles.entryText}>{entry.text}</Text> : null}
              <Text style={styles.entryMeta}>
                {[formatDateTime(entry.createdAt, locale), entry.createdBy !== null || entry.createdByName
                  ? userName(t, entry.createdByName, entry.createdBy)
                  : null]
                  .filter(Boolean)
                  .join(' · ')}
              </Text>
            </View>
          </View>
        ))}
      </Section>
    </ScrollView>
  );
}

const styles = StyleSheet.create({
  content: { padding: spacing.lg, gap: spacing.lg },
  card: { backgroundColor: colors.surface, borderRadius: 12, padding: spacing.lg, gap: spacing.sm },
  name: { fontSize: 20, fontWeight: '700', color: colors.text },
  stageRow: { flexDirection: 'row', alignItems: 'center', gap: spacing.sm, flexWrap: 'wrap' },
  stageTag: { borderRadius: 12, paddingHorizontal: spacing.md, paddingVertical: 4 },
  stageText: { color: colors.text, fontSize: 13, fontWeight: '600' },
  row: { flexDirection: 'row', justifyContent: 'space-between', alignItems: 'center', gap: spacing.md },
  rowLabel: { color: colors.muted, fontSize: 14 },
  rowValue: { color: colors.text, fontSize: 14, fontWeight: '600', flexShrink: 1, textAlign: 'right' },
  section: { backgroundColor: colors.surface, borderRadius: 12, padding: spacing.lg, gap: spacing.sm },
  sectionTitle: { fontSize: 16, fontWeight: '700', color: colors.text },
  contact: { gap: spacing.xs },
  contactName: { fontSize: 15, fontWeight: '600', color: colors.text },
  link: { minHeight: MIN_TOUCH, justifyContent: 'center' },
  grow: { flex: 1 },
  smallAction: { minHeight: MIN_TOUCH, minWidth: MIN_TOUCH, justifyContent: 'center', paddingHorizontal: spacing.xs },
  priceEditor: { gap: spacing.sm },
  priceInput: {
    minHeight: MIN_TOUCH,
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 10,
    paddingHorizontal: spacing.md,
    fontSize: 15,
    color: colors.text,
  },
  priceButtons: { flexDirection: 'row', gap: spacing.sm },
  pressed: { opacity: 0.6 },
  linkText: { color: colors.primary, fontSize: 15 },
  tags: { flexDirection: 'row', flexWrap: 'wrap', gap: spacing.sm },
  tag: { backgroundColor: colors.infoBackground, borderRadius: 10, paddingHorizontal: spacing.sm, paddingVertical: 3 },
  tagText: { fontSize: 13, color: colors.text },
  entry: { flexDirection: 'row', gap: spacing.md },
  entryDot: { width: 8, height: 8, borderRadius: 4, backgroundColor: colors.primary, marginTop: 6 },
  entryBody: { flex: 1, gap: 2 },
  entryTitle: { fontSize: 14, fontWeight: '600', color: colors.text },
  entryText: { fontSize: 14, color: colors.text },
  entryMeta: { fontSize: 12, color: colors.muted },
  muted: { color: colors.muted, fontSize: 14 },
});
