import { useState } from 'react';
import { Linking, Pressable, RefreshControl, SectionList, StyleSheet, Text, View } from 'react-native';

import type { Task, TaskBoard } from '@/api/types';
import { fill, type Language, useI18n } from '@/i18n';

import { telUrl } from '../crm/LeadDetailView';
import { LOCALES } from '../crm/format';
import { InlineNotice } from '../ui/InlineNotice';
import { colors, MIN_TOUCH, spacing } from '../ui/theme';
import { CompleteTaskSheet } from './CompleteTaskSheet';

type Group = 'overdue' | 'today' | 'upcoming';
const GROUPS: readonly Group[] = ['overdue', 'today', 'upcoming'];

/** Today's tasks need only the time; the others the day as well. */
export function formatDue(iso: string | null, group: Group, language: Language): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const options: Intl.DateTimeFormatOptions =
    group === 'today'
      ? { hour: '2-digit', minute: '2-digit' }
      : { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' };
  return new Intl.DateTimeFormat(LOCALES[language], options).format(date);
}

function TaskRow({ task, group, onComplete }: { task: Task; group: Group; onComplete(task: Task): void }) {
  const { t, language } = useI18n();
  const phone = task.type === 'call' ? task.contact?.phone : null;
  const overdue = group === 'overdue';
  return (
    <View style={[styles.row, overdue && styles.rowOverdue]} testID={`task-${task.id}`}>
      <Pressable
        accessibilityRole="button"
        accessibilityLabel={fill(t.tasks.completeLabel, { text: task.text })}
        onPress={() => onComplete(task)}
        style={({ pressed }) => [styles.body, pressed && styles.pressed]}
        testID={`task-${task.id}-open`}
      >
        <Text style={[styles.due, overdue && styles.dueOverdue]} testID={`task-${task.id}-due`}>
          {`${formatDue(task.dueAt, group, language)} · ${t.tasks.types[task.type]}`}
        </Text>
        <Text style={styles.text} numberOfLines={2}>
          {task.text}
        </Text>
        <Text style={styles.lead} numberOfLines={1}>
          {task.lead?.name ?? t.tasks.noLead}
        </Text>
      </Pressable>
      {phone ? (
        <Pressable
          accessibilityRole="link"
          accessibilityLabel={fill(t.tasks.callLabel, { name: task.contact?.name ?? '', phone })}
          onPress={() => void Linking.openURL(telUrl(phone)).catch(() => undefined)}
          style={({ pressed }) => [styles.call, pressed && styles.pressed]}
          testID={`task-${task.id}-call`}
        >
          <Text style={styles.callText}>☎ {t.tasks.call}</Text>
        </Pressable>
      ) : null}
    </View>
  );
}

/** The broker's open tasks: overdue (red), today, upcoming; tap one to complete it with a result. */
export function TaskBoardView({
  board,
  refreshing,
  onRefresh,
}: {
  board: TaskBoard;
  refreshing: boolean;
  onRefresh(): void;
}) {
  const { t } = useI18n();
  const [completing, setCompleting] = useState<Task | null>(null);
  const [completed, setCompleted] = useState(false);
  const sections = GROUPS.filter((group) => board[group].length > 0).map((group) => ({
    group,
    title: `${t.tasks[group]} · ${board.counts[group]}`,
    data: board[group],
  }));

  return (
    <View style={styles.container}>
      {completed ? (
        <View style={styles.notice}>
          <InlineNotice kind="success" text={t.tasks.completed} onClose={() => setCompleted(false)} testID="task-completed" />
        </View>
      ) : null}
      <SectionList
        sections={sections}
        keyExtractor={(task) => String(task.id)}
        renderSectionHeader={({ section }) => (
          <Text
            style={[styles.header, section.group === 'overdue' && styles.headerOverdue]}
            accessibilityRole="header"
            testID={`tasks-${section.group}`}
          >
            {section.title}
          </Text>
        )}
        renderItem={({ item, section }) => (
          <TaskRow
            task={item}
            group={section.group}
            onComplete={(task) => {
              setCompleted(false);
              setCompleting(task);
            }}
          />
        )}
        ListEmptyComponent={
          <Text style={styles.empty} testID="tasks-empty">
            {t.tasks.empty}
          </Text>
        }
        refreshControl={<RefreshControl refreshing={refreshing} onRefresh={onRefresh} />}
        contentContainerStyle={styles.list}
        stickySectionHeadersEnabled={false}
        testID="task-list"
      />
      {completing ? (
        <CompleteTaskSheet
          key={completing.id}
          task={completing}
          onClose={() => setCompleting(null)}
          onCompleted={() => {
            setCompleting(null);
            setCompleted(true);
          }}
        />
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  container: { flex: 1 },
  notice: { paddingHorizontal: spacing.lg, paddingTop: spacing.md },
  list: { padding: spacing.lg, gap: spacing.sm },
  header: { fontSize: 15, fontWeight: '700', color: colors.text, marginTop: spacing.md, marginBottom: spacing.xs },
  headerOverdue: { color: colors.danger },
  row: {
    flexDirection: 'row',
    alignItems: 'center',
    backgroundColor: colors.surface,
    borderRadius: 12,
    borderLeftWidth: 4,
    borderLeftColor: colors.border,
    marginBottom: spacing.sm,
  },
  rowOverdue: { borderLeftColor: colors.danger },
  body: { flex: 1, padding: spacing.md, gap: 2, minHeight: MIN_TOUCH },
  pressed: { opacity: 0.6 },
  due: { fontSize: 13, fontWeight: '600', color: colors.muted },
  dueOverdue: { color: colors.danger },
  text: { fontSize: 15, fontWeight: '600', color: colors.text },
  lead: { fontSize: 14, color: colors.muted },
  call: { minHeight: MIN_TOUCH, minWidth: MIN_TOUCH, justifyContent: 'center', paddingHorizontal: spacing.md },
  callText: { color: colors.primary, fontSize: 15, fontWeight: '600' },
  empty: { textAlign: 'center', color: colors.muted, fontSize: 15, padding: spacing.xl },
});
