import { StyleSheet, Text, TextInput, type TextInputProps, View } from 'react-native';

import { colors, MIN_TOUCH, spacing } from './theme';

type Props = {
  label: string;
  value: string;
  onChangeText(text: string): void;
  /** A message under the field; the input is marked invalid with it. */
  error?: string | null;
  hint?: string;
  testID: string;
} & Omit<TextInputProps, 'value' | 'onChangeText' | 'testID'>;

/** A labelled input: the label is also its accessibility label; an error sits under it. */
export function FormField({ label, value, onChangeText, error, hint, testID, ...inputProps }: Props) {
  return (
    <View style={styles.field}>
      <Text style={styles.label}>{label}</Text>
      <TextInput
        value={value}
        onChangeText={onChangeText}
        accessibilityLabel={label}
        accessibilityHint={hint}
        aria-invalid={Boolean(error)}
        placeholderTextColor={colors.placeholder}
        autoCorrect={false}
        style={[styles.input, error ? styles.inputInvalid : null]}
        testID={testID}
        {...inputProps}
      />
      {hint && !error ? <Text style={styles.hint}>{hint}</Text> : null}
      {error ? (
        <Text style={styles.error} testID={`${testID}-error`}>
          {error}
        </Text>
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  field: { gap: spacing.xs },
  label: { fontSize: 14, color: colors.muted },
  input: {
    minHeight: MIN_TOUCH,
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 10,
    backgroundColor: colors.surface,
    paddingHorizontal: spacing.md,
    paddingVertical: spacing.sm,
    fontSize: 15,
    color: colors.text,
  },
  inputInvalid: { borderColor: colors.danger },
  hint: { fontSize: 13, color: colors.muted },
  error: { fontSize: 14, color: colors.danger },
});
