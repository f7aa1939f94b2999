import { Pressable, StyleSheet, Text, View } from 'react-native';

import { useI18n } from '@/i18n';

import { colors, MIN_TOUCH, spacing } from './theme';

/** A one-line outcome under an action: an error in red, a success in green; it can be closed. */
export function InlineNotice({
  kind,
  text,
  onClose,
  testID,
}: {
  kind: 'error' | 'success';
  text: string;
  onClose?: () => void;
  testID: string;
}) {
  const { t } = useI18n();
  const error = kind === 'error';
  return (
    <View style={[styles.banner, error ? styles.error : styles.success]} accessibilityRole="alert" testID={testID}>
      <Text style={[styles.text, error ? styles.errorText : styles.successText]}>{text}</Text>
      {onClose ? (
        <Pressable
          accessibilityRole="button"
          accessibilityLabel={t.common.closeNotice}
          onPress={onClose}
          style={styles.close}
          testID={`${testID}-close`}
        >
          <Text style={[styles.closeText, error ? styles.errorText : styles.successText]}>✕</Text>
        </Pressable>
      ) : null}
    </View>
  );
}

const styles = StyleSheet.create({
  banner: { flexDirection: 'row', alignItems: 'center', borderRadius: 10, paddingLeft: spacing.md, minHeight: MIN_TOUCH },
  error: { backgroundColor: colors.dangerBackground },
  success: { backgroundColor: colors.successBackground },
  text: { flex: 1, fontSize: 14, paddingVertical: spacing.sm },
  errorText: { color: colors.danger },
  successText: { color: colors.success },
  close: { minWidth: MIN_TOUCH, minHeight: MIN_TOUCH, alignItems: 'center', justifyContent: 'center' },
  closeText: { fontSize: 16 },
});
