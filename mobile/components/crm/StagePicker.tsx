import { useState } from 'react';
import { Pressable, StyleSheet, Text, View } from 'react-native';

import type { Pipeline, Stage } from '@/api/types';
import { fill, useI18n } from '@/i18n';

import { Button } from '../ui/Button';
import { Sheet } from '../ui/Sheet';
import { colors, sheetOption, spacing } from '../ui/theme';

export type StageTarget = { pipelineId: number; stageId: number };

/** Stages a lead may be moved into: every one but amoCRM's incoming «Неразобранное». */
export function movableStages(pipeline: Pipeline): Stage[] {
  return pipeline.stages.filter((stage) => stage.type !== 'unsorted');
}

/** Closing a lead (won or lost) is asked twice: it ends the broker's work on it. */
export function needsConfirmation(stage: Stage): boolean {
  return stage.type === 'won' || stage.type === 'lost';
}

/**
 * The stage picker: the account's pipelines, each with its stages in amoCRM's order and colour;
 * the lead's current stage is marked and not offered; won/lost ask for a confirmation first.
 * Mounted while open, so each opening starts at the list.
 */
export function StagePicker({
  leadName,
  pipelines,
  current,
  onPick,
  onClose,
}: {
  leadName: string;
  pipelines: Pipeline[];
  current: StageTarget | null;
  onPick(target: StageTarget): void;
  onClose(): void;
}) {
  const { t } = useI18n();
  const labels = t.crm.lead.edit;
  const [confirming, setConfirming] = useState<{ pipeline: Pipeline; stage: Stage } | null>(null);

  const choose = (pipeline: Pipeline, stage: Stage) => {
    if (needsConfirmation(stage)) setConfirming({ pipeline, stage });
    else onPick({ pipelineId: pipeline.id, stageId: stage.id });
  };

  if (confirming) {
    const { pipeline, stage } = confirming;
    return (
      <Sheet
        title={stage.type === 'won' ? labels.confirmWonTitle : labels.confirmLostTitle}
        visible
        onClose={onClose}
        testID="stage-confirm"
      >
        <View style={styles.confirmStage}>
          <View style={[styles.dot, { backgroundColor: stage.color ?? colors.border }]} />
          <Text style={styles.confirmText}>{fill(labels.confirmText, { name: leadName, stage: stage.name })}</Text>
        </View>
        <Button
          title={labels.confirm}
          onPress={() => onPick({ pipelineId: pipeline.id, stageId: stage.id })}
          testID="stage-confirm-yes"
        />
        <Button title={t.common.cancel} variant="secondary" onPress={() => setConfirming(null)} testID="stage-confirm-no" />
      </Sheet>
    );
  }

  return (
    <Sheet title={labels.stagePickerTitle} visible onClose={onClose} testID="stage-picker">
      {pipelines.map((pipeline) => (
        <View key={pipeline.id} style={styles.group} testID={`stage-group-${pipeline.id}`}>
          <Text style={styles.groupTitle} accessibilityRole="header">
            {pipeline.name}
          </Text>
          {movableStages(pipeline).map((stage) => {
            const isCurrent = current?.pipelineId === pipeline.id && current.stageId === stage.id;
            return (
              <Pressable
                key={stage.id}
                accessibilityRole="button"
                accessibilityLabel={`${pipeline.name}: ${stage.name}`}
                accessibilityState={{ selected: isCurrent, disabled: isCurrent }}
                disabled={isCurrent}
                onPress={() => choose(pipeline, stage)}
                style={({ pressed }) => [styles.stage, isCurrent && styles.current, pressed && styles.pressed]}
                testID={`stage-option-${pipeline.id}-${stage.id}`}
              >
                <View style={[styles.dot, { backgroundColor: stage.color ?? colors.border }]} />
                <Text style={styles.stageName} numberOfLines={2}>
                  {stage.name}
                </Text>
                {isCurrent ? <Text style={styles.currentMark}>{labels.currentStage}</Text> : null}
              </Pressable>
            );
          })}
        </View>
      ))}
    </Sheet>
  );
}

const styles = StyleSheet.create({
  group: { gap: spacing.xs },
  groupTitle: { fontSize: 13, fontWeight: '700', color: colors.muted, textTransform: 'uppercase', marginTop: spacing.sm },
  stage: sheetOption.row,
  current: sheetOption.chosen,
  pressed: { opacity: 0.6 },
  dot: { width: 14, height: 14, borderRadius: 7, borderWidth: 1, borderColor: 'rgba(0,0,0,0.15)' },
  stageName: { flex: 1, fontSize: 15, color: colors.text },
  currentMark: { fontSize: 13, color: colors.primary, fontWeight: '600' },
  confirmStage: { flexDirection: 'row', alignItems: 'center', gap: spacing.md },
  confirmText: { flex: 1, fontSize: 15, color: colors.text },
});
