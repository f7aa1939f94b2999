import { Linking, Pressable, RefreshControl, ScrollView, StyleSheet, Text, View } from 'react-native';

import type { LeadDetail, TimelineEntry } from '@/api/types';
import { fill, type Messages, useI18n } from '@/i18n';

import { colors, MIN_TOUCH, spacing } from '../ui/theme';
import { formatDateTime, formatPrice, LOCALES } from './format';

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
  const price = formatPrice(lead.price, locale);
  const created = formatDateTime(lead.createdAt, locale);

  return (
    <ScrollView
      contentContainerStyle={styles.content}
      refreshControl={<RefreshControl refreshing={refreshing} onRefresh={onRefresh} />}
      testID="lead-detail"
    >
      <View style={styles.card}>
        <Text style={styles.name} testID="lead-detail-name">
          {lead.name}
        </Text>
        {lead.stageName ? (
          <View style={styles.stageRow}>
            <View
              style={[styles.stageTag, { backgroundColor: lead.stageColor ?? colors.border }]}
              testID="lead-detail-stage"
            >
              <Text style={styles.stageText}>{lead.stageName}</Text>
            </View>
            {lead.pipelineName ? <Text style={styles.muted}>{lead.pipelineName}</Text> : null}
          </View>
        ) : null}
        {price ? <Row label={labels.price} value={price} testID="lead-detail-price" /> : null}
        <Row
          label={labels.responsible}
          value={userName(t, lead.responsibleUserName, lead.responsibleUserId)}
          testID="lead-detail-responsible"
        />
        {created ? <Row label={labels.created} value={created} testID="lead-detail-created" /> : null}
      </View>

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
  row: { flexDirection: 'row', justifyContent: 'space-between', gap: spacing.md },
  rowLabel: { color: colors.muted, fontSize: 14 },
  rowValue: { color: colors.text, fontSize: 14, fontWeight: '600', flexShrink: 1, textAlign: 'right' },
  section: { backgroundColor: colors.surface, borderRadius: 12, padding: spacing.lg, gap: spacing.sm },
  sectionTitle: { fontSize: 16, fontWeight: '700', color: colors.text },
  contact: { gap: spacing.xs },
  contactName: { fontSize: 15, fontWeight: '600', color: colors.text },
  link: { minHeight: MIN_TOUCH, justifyContent: 'center' },
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
