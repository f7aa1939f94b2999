import { useState } from 'react';
import { StyleSheet, Text, TextInput } from 'react-native';

import { useCompleteTask } from '@/api/tasks';
import type { Task } from '@/api/types';
import { useI18n } from '@/i18n';

import { Button } from '../ui/Button';
import { InlineNotice } from '../ui/InlineNotice';
import { Sheet } from '../ui/Sheet';
import { colors, MIN_TOUCH, spacing } from '../ui/theme';
import { taskErrorMessage } from './taskErrors';

const MAX_RESULT = 2000;

/** Closing a task asks what came of it; amoCRM keeps the result with the task. Mounted while open. */
export function CompleteTaskSheet({ task, onClose, onCompleted }: { task: Task; onClose(): void; onCompleted(): void }) {
  const { t } = useI18n();
  const labels = t.tasks.complete;
  const [result, setResult] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const mutation = useCompleteTask();

  const complete = async () => {
    const text = result.trim();
    if (!text) return setProblem(labels.empty);
    if (text.length > MAX_RESULT) return setProblem(labels.tooLong);
    setProblem(null);
    try {
      // Completing twice is harmless (the backend answers 200 without a second write), so a
      // retry needs no key of its own.
      await mutation.mutateAsync({ taskId: task.id, result: text });
      onCompleted();
    } catch (error) {
      setProblem(taskErrorMessage(t, error));
    }
  };

  return (
    <Sheet title={labels.title} visible onClose={onClose} testID="complete-task">
      <Text style={styles.task} testID="complete-task-text">
        {task.text}
        {task.lead ? <Text style={styles.lead}>{` · ${task.lead.name}`}</Text> : null}
      </Text>
      <TextInput
        value={result}
        onChangeText={setResult}
        placeholder={labels.resultPlaceholder}
        placeholderTextColor={colors.placeholder}
        accessibilityLabel={labels.result}
        multiline
        maxLength={MAX_RESULT}
        autoFocus
        style={styles.input}
        testID="complete-task-result"
      />
      {problem ? <InlineNotice kind="error" text={problem} testID="complete-task-error" /> : null}
      <Button title={labels.submit} onPress={() => void complete()} busy={mutation.isPending} testID="complete-task-submit" />
    </Sheet>
  );
}

const styles = StyleSheet.create({
  task: { fontSize: 15, fontWeight: '600', color: colors.text },
  lead: { fontWeight: '400', color: colors.muted },
  input: {
    minHeight: MIN_TOUCH * 2,
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 10,
    padding: spacing.md,
    fontSize: 15,
    color: colors.text,
    textAlignVertical: 'top',
  },
});
