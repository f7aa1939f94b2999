import { useEffect, useRef, useState } from 'react';
import { Pressable, ScrollView, StyleSheet, Text, View } from 'react-native';

import type { Pipeline, Stage } from '@/api/types';
import { useI18n } from '@/i18n';

import { Sheet } from '../ui/Sheet';
import { colors, MIN_TOUCH, sheetOption, spacing } from '../ui/theme';

type ChipProps = {
  label: string;
  selected: boolean;
  onPress(): void;
  color?: string | null;
  testID: string;
};

/** A selectable pill; a stage's amoCRM colour shows as its dot and, when selected, its fill. */
export function Chip({ label, selected, onPress, color, testID }: ChipProps) {
  return (
    <Pressable
      accessibilityRole="button"
      accessibilityLabel={label}
      accessibilityState={{ selected }}
      onPress={onPress}
      testID={testID}
      style={[
        styles.chip,
        selected && styles.chipSelected,
        selected && color ? { backgroundColor: color, borderColor: color } : null,
      ]}
    >
      {color ? <View style={[styles.dot, { backgroundColor: color }]} /> : null}
      <Text style={[styles.chipText, selected && !color && styles.chipTextSelected]} numberOfLines={1}>
        {label}
      </Text>
    </Pressable>
  );
}

/**
 * A horizontal row of chips. When `resetKey` changes (another pipeline) the row scrolls back
 * to its start, so the first chip («Усі етапи») is in view again.
 */
function ChipRow({ children, testID, resetKey }: { children: React.ReactNode; testID: string; resetKey?: number }) {
  const scroller = useRef<ScrollView>(null);
  useEffect(() => {
    scroller.current?.scrollTo({ x: 0, animated: false });
  }, [resetKey]);
  return (
    <ScrollView
      ref={scroller}
      horizontal
      showsHorizontalScrollIndicator={false}
      style={styles.scroller}
      contentContainerStyle={styles.row}
      keyboardShouldPersistTaps="handled"
      testID={testID}
    >
      {children}
    </ScrollView>
  );
}

/**
 * The pipeline as the CRM tab's title: its name and lead count, which the broker taps to switch
 * pipelines in a sheet. With one pipeline there is nothing to switch, and it is a plain title.
 */
export function PipelinePicker({
  pipelines,
  selectedId,
  summary,
  onSelect,
}: {
  pipelines: Pipeline[];
  selectedId: number;
  /** «Продаж — 19 угод»: the selected pipeline and how many of the broker's leads it holds. */
  summary: string;
  onSelect(id: number): void;
}) {
  const { t } = useI18n();
  const [open, setOpen] = useState(false);
  const switchable = pipelines.length > 1;
  const title = (
    <Text style={styles.pickerText} numberOfLines={1} testID="leads-summary" accessibilityRole="header">
      {summary}
    </Text>
  );
  if (!switchable) return <View style={styles.picker}>{title}</View>;
  return (
    <>
      <Pressable
        accessibilityRole="button"
        accessibilityLabel={`${t.crm.pipelineLabel}: ${summary}`}
        accessibilityHint={t.crm.pipelineSwitchHint}
        onPress={() => setOpen(true)}
        style={({ pressed }) => [styles.picker, pressed && styles.pressed]}
        testID="pipeline-picker"
      >
        {title}
        <Text style={styles.chevron}>▾</Text>
      </Pressable>
      <Sheet title={t.crm.pipelineLabel} visible={open} onClose={() => setOpen(false)} testID="pipeline-sheet">
        {pipelines.map((pipeline) => {
          const selected = pipeline.id === selectedId;
          return (
            <Pressable
              key={pipeline.id}
              accessibilityRole="button"
              accessibilityLabel={pipeline.name}
              accessibilityState={{ selected }}
              onPress={() => {
                setOpen(false);
                onSelect(pipeline.id);
              }}
              style={({ pressed }) => [styles.option, selected && styles.optionSelected, pressed && styles.pressed]}
              testID={`pipeline-chip-${pipeline.id}`}
            >
              <Text style={styles.optionText} numberOfLines={2}>
                {pipeline.name}
              </Text>
              {selected ? <Text style={styles.check}>✓</Text> : null}
            </Pressable>
          );
        })}
      </Sheet>
    </>
  );
}

/** "All stages" and the pipeline's stages in amoCRM's order, each in its amoCRM colour. */
export function StageFilter({
  pipelineId,
  stages,
  selectedId,
  onSelect,
}: {
  pipelineId: number;
  stages: Stage[];
  selectedId: number | null;
  onSelect(id: number | null): void;
}) {
  const { t } = useI18n();
  return (
    <ChipRow testID="stage-filter" resetKey={pipelineId}>
      <Chip label={t.crm.allStages} selected={selectedId === null} onPress={() => onSelect(null)} testID="stage-chip-all" />
      {stages.map((stage) => (
        <Chip
          key={stage.id}
          label={stage.name}
          color={stage.color}
          selected={stage.id === selectedId}
          onPress={() => onSelect(stage.id)}
          testID={`stage-chip-${stage.id}`}
        />
      ))}
    </ChipRow>
  );
}

const styles = StyleSheet.create({
  // A horizontal scroller must not grow to share the column's height with the list below.
  scroller: { flexGrow: 0, flexShrink: 0 },
  row: { gap: spacing.sm, paddingVertical: 2, alignItems: 'center' },
  chip: {
    flexDirection: 'row',
    alignItems: 'center',
    gap: spacing.xs,
    borderRadius: MIN_TOUCH / 2,
    borderWidth: 1,
    borderColor: colors.border,
    backgroundColor: colors.surface,
    paddingHorizontal: spacing.md,
    minHeight: MIN_TOUCH,
    maxWidth: 240,
  },
  chipSelected: { backgroundColor: colors.primary, borderColor: colors.primary },
  dot: { width: 10, height: 10, borderRadius: 5, borderWidth: 1, borderColor: 'rgba(0,0,0,0.15)' },
  chipText: { fontSize: 14, color: colors.text },
  chipTextSelected: { color: colors.primaryText, fontWeight: '600' },
  picker: { flex: 1, flexDirection: 'row', alignItems: 'center', gap: spacing.xs, minHeight: MIN_TOUCH },
  pickerText: { flexShrink: 1, fontSize: 17, fontWeight: '700', color: colors.text },
  chevron: { fontSize: 14, color: colors.muted },
  pressed: { opacity: 0.6 },
  option: sheetOption.row,
  optionSelected: sheetOption.chosen,
  optionText: { flex: 1, fontSize: 15, color: colors.text },
  check: { fontSize: 15, fontWeight: '700', color: colors.primary },
});
