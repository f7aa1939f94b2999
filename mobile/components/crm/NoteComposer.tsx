import { useCallback, useState } from 'react';
import { StyleSheet, TextInput, View } from 'react-native';

import { isApiError } from '@/api/client';
import { useAddNote } from '@/api/crm';
import { useI18n } from '@/i18n';
import { useIdempotentSubmit } from '@/lib/idempotency';

import { Button } from '../ui/Button';
import { InlineNotice } from '../ui/InlineNotice';
import { colors, MIN_TOUCH, spacing } from '../ui/theme';
import { noteErrorMessage } from './leadEditErrors';

const MAX_NOTE = 4000;

/** A note after a call: typed, sent once per submit (a retry reuses the key), then on the timeline. */
export function NoteComposer({ leadId }: { leadId: number }) {
  const { t } = useI18n();
  const labels = t.crm.lead.edit;
  const [text, setText] = useState('');
  const [outcome, setOutcome] = useState<{ kind: 'error' | 'success'; text: string } | null>(null);
  const mutation = useAddNote(leadId);
  const { mutateAsync } = mutation;
  const send = useCallback(
    (body: { text: string }, idempotencyKey: string) => mutateAsync({ text: body.text, idempotencyKey }),
    [mutateAsync],
  );
  const { submit, forgetAttempt } = useIdempotentSubmit('note', send);

  const add = async () => {
    const note = text.trim();
    if (!note) return setOutcome({ kind: 'error', text: labels.noteEmpty });
    if (note.length > MAX_NOTE) return setOutcome({ kind: 'error', text: labels.noteTooLong });
    setOutcome(null);
    try {
      await submit({ text: note });
      setText('');
      setOutcome({ kind: 'success', text: labels.noteAdded });
    } catch (error) {
      if (isApiError(error, 'idempotency_key_reused')) forgetAttempt();
      setOutcome({ kind: 'error', text: noteErrorMessage(t, error) });
    }
  };

  return (
    <View style={styles.container}>
      <TextInput
        value={text}
        onChangeText={(value) => {
          setText(value);
          if (outcome?.kind === 'success') setOutcome(null);
        }}
        placeholder={labels.notePlaceholder}
        placeholderTextColor={colors.placeholder}
        accessibilityLabel={labels.noteLabel}
        multiline
        maxLength={MAX_NOTE}
        style={styles.input}
        testID="note-text"
      />
      {outcome ? (
        <InlineNotice
          kind={outcome.kind}
          text={outcome.text}
          onClose={() => setOutcome(null)}
          testID={outcome.kind === 'error' ? 'note-error' : 'note-added'}
        />
      ) : null}
      <Button
        title={labels.addNote}
        variant="secondary"
        onPress={() => void add()}
        busy={mutation.isPending}
        testID="note-submit"
      />
    </View>
  );
}

const styles = StyleSheet.create({
  container: { gap: spacing.sm },
  input: {
    minHeight: MIN_TOUCH * 2,
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 10,
    padding: spacing.md,
    fontSize: 15,
    color: colors.text,
    backgroundColor: colors.surface,
    textAlignVertical: 'top',
  },
});
