import { useCallback, useState } from 'react';
import { StyleSheet, Text, TextInput, View } from 'react-native';

import { useCreateTask } from '@/api/tasks';
import type { NewTaskInput, Task } from '@/api/types';
import { useI18n } from '@/i18n';
import { useIdempotentSubmit } from '@/lib/idempotency';

import { Chip } from '../crm/Chips';
import { Button } from '../ui/Button';
import { InlineNotice } from '../ui/InlineNotice';
import { Sheet } from '../ui/Sheet';
import { colors, MIN_TOUCH, spacing } from '../ui/theme';
import { DUE_PRESETS, formatDueInput, parseDueInput, presetDue } from './dueDate';
import { taskErrorMessage } from './taskErrors';

/**
 * A new call or meeting for a lead: type, optional text, and a due date from a preset or typed
 * (the same on the web and on phones, no native picker). One Idempotency-Key per submit, so
 * "try again" after a failure never creates the task twice. Mounted while open, so each
 * opening starts with a fresh form.
 */
export function AddTaskSheet({
  leadId,
  onClose,
  onAdded,
}: {
  leadId: number;
  onClose(): void;
  onAdded(task: Task): void;
}) {
  const { t } = useI18n();
  const labels = t.tasks.add;
  const [type, setType] = useState<'call' | 'meeting'>('call');
  const [text, setText] = useState('');
  const [due, setDue] = useState(() => formatDueInput(presetDue('inHour', new Date())));
  const [invalidDue, setInvalidDue] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const mutation = useCreateTask();
  const { mutateAsync } = mutation;
  const send = useCallback(
    (input: NewTaskInput, idempotencyKey: string) => mutateAsync({ input, idempotencyKey }),
    [mutateAsync],
  );
  const { submit } = useIdempotentSubmit('task', send);

  const create = async () => {
    const dueAt = parseDueInput(due, new Date());
    setInvalidDue(dueAt === null);
    if (!dueAt) return;
    setFailure(null);
    const input: NewTaskInput = { leadId, type, dueAt: dueAt.toISOString(), ...(text.trim() ? { text: text.trim() } : {}) };
    try {
      onAdded(await submit(input));
    } catch (error) {
      setFailure(taskErrorMessage(t, error));
    }
  };

  return (
    <Sheet title={labels.title} visible onClose={onClose} testID="add-task">
      <Text style={styles.label}>{labels.type}</Text>
      <View style={styles.row}>
        {(['call', 'meeting'] as const).map((option) => (
          <Chip
            key={option}
            label={t.tasks.types[option]}
            selected={type === option}
            onPress={() => setType(option)}
            testID={`add-task-type-${option}`}
          />
        ))}
      </View>
      <Text style={styles.label}>{labels.text}</Text>
      <TextInput
        value={text}
        onChangeText={setText}
        placeholder={labels.textPlaceholder}
        placeholderTextColor={colors.placeholder}
        accessibilityLabel={labels.text}
        maxLength={2000}
        style={styles.input}
        testID="add-task-text"
      />
      <Text style={styles.label}>{labels.due}</Text>
      <View style={styles.row}>
        {DUE_PRESETS.map((preset) => (
          <Chip
            key={preset}
            label={labels.presets[preset]}
            selected={due === formatDueInput(presetDue(preset, new Date()))}
            onPress={() => {
              setDue(formatDueInput(presetDue(preset, new Date())));
              setInvalidDue(false);
            }}
            testID={`add-task-preset-${preset}`}
          />
        ))}
      </View>
      <TextInput
        value={due}
        onChangeText={(value) => {
          setDue(value);
          setInvalidDue(false);
        }}
        accessibilityLabel={labels.dueLabel}
        placeholder="2026-12-01 10:00"
        placeholderTextColor={colors.placeholder}
        autoCorrect={false}
        inputMode="numeric"
        style={[styles.input, invalidDue && styles.invalid]}
        testID="add-task-due"
      />
      {invalidDue ? (
        <Text style={styles.error} testID="add-task-due-error">
          {labels.invalidDue}
        </Text>
      ) : null}
      {failure ? <InlineNotice kind="error" text={failure} testID="add-task-error" /> : null}
      <Button title={labels.submit} onPress={() => void create()} busy={mutation.isPending} testID="add-task-submit" />
    </Sheet>
  );
}

const styles = StyleSheet.create({
  label: { fontSize: 14, fontWeight: '600', color: colors.text },
  row: { flexDirection: 'row', flexWrap: 'wrap', gap: spacing.sm },
  input: {
    minHeight: MIN_TOUCH,
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 10,
    paddingHorizontal: spacing.md,
    fontSize: 15,
    color: colors.text,
    backgroundColor: colors.surface,
  },
  invalid: { borderColor: colors.danger },
  error: { color: colors.danger, fontSize: 13 },
});
