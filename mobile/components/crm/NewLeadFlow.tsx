import { useRouter } from 'expo-router';
import { useEffect, useState } from 'react';
import { Pressable, ScrollView, StyleSheet, Text, TextInput, type TextInputProps, View } from 'react-native';

import { useAccountCurrency, usePipelines } from '@/api/crm';
import type { Pipeline, Stage } from '@/api/types';
import { fill, useI18n } from '@/i18n';

import { Button } from '../ui/Button';
import { ErrorView, LoadingView, MessageView } from '../ui/StateViews';
import { colors, MIN_TOUCH, spacing } from '../ui/theme';
import { crmListState } from './crmListState';
import { currencySymbol, formatPrice, LOCALES } from './format';
import {
  describeSubmitFailure,
  emptyLeadForm,
  type LeadFormErrors,
  type LeadFormField,
  type LeadFormValues,
  type SubmitFailure,
  validateLeadForm,
} from './newLeadForm';
import { useSubmitLead } from './useSubmitLead';

type Step = 'pipeline' | 'stage' | 'form';

/** The budget field's placeholder: a typical price, written as the language writes numbers. */
const PRICE_EXAMPLE = 125000;

/** Stages a new lead can go to: the open ones (not won or lost). */
function openStages(pipeline: Pipeline): Stage[] {
  return pipeline.stages.filter((stage) => stage.type === 'open');
}

function ChoiceRow({
  label,
  color,
  selected,
  onPress,
  testID,
}: {
  label: string;
  color?: string | null;
  selected: boolean;
  onPress(): void;
  testID: string;
}) {
  return (
    <Pressable
      accessibilityRole="button"
      accessibilityLabel={label}
      accessibilityState={{ selected }}
      onPress={onPress}
      style={({ pressed }) => [styles.choice, selected && styles.choiceSelected, pressed && styles.pressed]}
      testID={testID}
    >
      {color !== undefined ? <View style={[styles.dot, { backgroundColor: color ?? colors.border }]} /> : null}
      <Text style={styles.choiceText}>{label}</Text>
      <Text style={styles.chevron}>›</Text>
    </Pressable>
  );
}

/** The new-lead flow: pipeline → stage → form, then back to the list with the lead on top. */
export function NewLeadFlow({ initialPipelineId }: { initialPipelineId: number | null }) {
  const { t } = useI18n();
  const pipelines = usePipelines();
  const [step, setStep] = useState<Step>('pipeline');
  const [pipelineId, setPipelineId] = useState<number | null>(initialPipelineId);
  const [stageId, setStageId] = useState<number | null>(null);

  if (pipelines.isPending) return <LoadingView testID="pipelines-loading" />;
  if (pipelines.isError) {
    return (
      <ErrorView title={t.crm.pipelinesError} error={pipelines.error} onRetry={() => void pipelines.refetch()} testID="pipelines-error" />
    );
  }
  const pipeline = pipelines.data.find((candidate) => candidate.id === pipelineId);
  const stage = pipeline?.stages.find((candidate) => candidate.id === stageId);

  if (step === 'pipeline' || !pipeline) {
    return (
      <ScrollView contentContainerStyle={styles.content} testID="new-lead-pipelines">
        <Text style={styles.heading}>{t.crm.create.choosePipeline}</Text>
        {pipelines.data.length === 0 ? <Text style={styles.muted}>{t.crm.noPipelines}</Text> : null}
        {pipelines.data.map((candidate) => (
          <ChoiceRow
            key={candidate.id}
            label={candidate.name}
            selected={candidate.id === pipelineId}
            onPress={() => {
              if (candidate.id !== pipelineId) setStageId(null);
              setPipelineId(candidate.id);
              setStep('stage');
            }}
            testID={`new-lead-pipeline-${candidate.id}`}
          />
        ))}
      </ScrollView>
    );
  }

  if (step === 'stage' || !stage) {
    const stages = openStages(pipeline);
    return (
      <ScrollView contentContainerStyle={styles.content} testID="new-lead-stages">
        <Chosen label={pipeline.name} onChange={() => setStep('pipeline')} testID="new-lead-change-pipeline" />
        <Text style={styles.heading}>{t.crm.create.chooseStage}</Text>
        {stages.length === 0 ? <MessageView title={pipeline.name} text={t.crm.create.noStages} /> : null}
        {stages.map((candidate) => (
          <ChoiceRow
            key={candidate.id}
            label={candidate.name}
            color={candidate.color}
            selected={candidate.id === stageId}
            onPress={() => {
              setStageId(candidate.id);
              setStep('form');
            }}
            testID={`new-lead-stage-${candidate.id}`}
          />
        ))}
      </ScrollView>
    );
  }

  return (
    <LeadForm
      pipeline={pipeline}
      stage={stage}
      onChangePipeline={() => setStep('pipeline')}
      onChangeStage={() => setStep('stage')}
    />
  );
}

function Chosen({ label, color, onChange, testID }: { label: string; color?: string | null; onChange(): void; testID: string }) {
  const { t } = useI18n();
  return (
    <View style={styles.chosen}>
      {color !== undefined ? <View style={[styles.dot, { backgroundColor: color ?? colors.border }]} /> : null}
      <Text style={styles.chosenText}>{label}</Text>
      <Pressable
        accessibilityRole="button"
        accessibilityLabel={`${t.crm.create.change}: ${label}`}
        onPress={onChange}
        testID={testID}
        style={styles.changeButton}
      >
        <Text style={styles.link}>{t.crm.create.change}</Text>
      </Pressable>
    </View>
  );
}

function Field({
  field,
  label,
  value,
  error,
  onChange,
  ...inputProps
}: {
  field: LeadFormField;
  label: string;
  value: string;
  error?: string;
  onChange(field: LeadFormField, value: string): void;
} & Omit<TextInputProps, 'value' | 'onChangeText' | 'onChange'>) {
  return (
    <View style={styles.field}>
      <Text style={styles.label}>{label}</Text>
      <TextInput
        value={value}
        onChangeText={(text) => onChange(field, text)}
        accessibilityLabel={label}
        placeholderTextColor={colors.placeholder}
        style={[styles.input, error ? styles.inputInvalid : null]}
        testID={`new-lead-${field}`}
        {...inputProps}
      />
      {error ? (
        <Text style={styles.fieldError} testID={`new-lead-${field}-error`}>
          {error}
        </Text>
      ) : null}
    </View>
  );
}

/**
 * Seconds left of a `Retry-After`: the backend refuses an earlier retry (amoCRM may still be
 * writing the first attempt), so the button waits and says how long.
 */
function useCountdown() {
  const [until, setUntil] = useState<number | null>(null);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until === null) return;
    const timer = setInterval(() => {
      const current = Date.now();
      setNow(current);
      if (current >= until) clearInterval(timer);
    }, 1000);
    return () => clearInterval(timer);
  }, [until]);
  const start = (seconds: number | null) => {
    const current = Date.now();
    setNow(current);
    setUntil(seconds ? current + seconds * 1000 : null);
  };
  const left = until === null ? 0 : Math.max(0, Math.ceil((until - now) / 1000));
  return { left, start };
}

function LeadForm({
  pipeline,
  stage,
  onChangePipeline,
  onChangeStage,
}: {
  pipeline: Pipeline;
  stage: Stage;
  onChangePipeline(): void;
  onChangeStage(): void;
}) {
  const { t, language } = useI18n();
  const locale = LOCALES[language];
  const currency = useAccountCurrency();
  const router = useRouter();
  const [values, setValues] = useState<LeadFormValues>(emptyLeadForm);
  const [errors, setErrors] = useState<LeadFormErrors>({});
  const [failure, setFailure] = useState<SubmitFailure | null>(null);
  const { submit, forgetAttempt, isSubmitting } = useSubmitLead();
  const invalid = t.crm.create.invalid;
  const countdown = useCountdown();
  const waitSeconds = countdown.left;

  const onChange = (field: LeadFormField, value: string) => {
    setValues((current) => ({ ...current, [field]: value }));
    setErrors((current) => ({ ...current, [field]: undefined, contact: undefined }));
  };

  const onSubmit = async () => {
    const checked = validateLeadForm(values);
    setErrors(checked.errors);
    if (!checked.lead) {
      setFailure(null);
      return;
    }
    try {
      const created = await submit({ pipelineId: pipeline.id, stageId: stage.id, ...checked.lead });
      // The list shows the new lead's pipeline, unfiltered, with the lead on top.
      crmListState.update({
        pipelineId: created.lead.pipelineId ?? pipeline.id,
        stageId: null,
        search: '',
        created: { id: created.id, name: created.lead.name },
      });
      if (router.canGoBack()) router.back();
      else router.replace('/crm');
    } catch (error) {
      const described = describeSubmitFailure(t, error);
      if (described.dropKey) forgetAttempt();
      setErrors((current) => ({ ...current, ...described.fields }));
      setFailure(described);
      countdown.start(described.retryAfter);
    }
  };

  /** What every input of the form takes from its field's name: label, value, error, change. */
  const fieldProps = (field: LeadFormField) => {
    const reason = errors[field];
    return {
      field,
      label: t.crm.create[field],
      value: values[field],
      error: reason ? invalid[reason] : undefined,
      onChange,
    };
  };

  return (
    <ScrollView contentContainerStyle={styles.content} keyboardShouldPersistTaps="handled" testID="new-lead-form">
      <Chosen label={pipeline.name} onChange={onChangePipeline} testID="new-lead-change-pipeline" />
      <Chosen label={stage.name} color={stage.color} onChange={onChangeStage} testID="new-lead-change-stage" />
      {/* The rule itself turns into the error when it is broken: one message, not two. */}
      {errors.contact ? (
        <Text style={styles.fieldError} accessibilityRole="alert" testID="new-lead-contact-error">
          {invalid.needContact}
        </Text>
      ) : (
        <Text style={styles.muted} testID="new-lead-hint">
          {t.crm.create.hint}
        </Text>
      )}
      <Field {...fieldProps('name')} autoCapitalize="words" />
      <Field {...fieldProps('phone')} keyboardType="phone-pad" autoComplete="tel" placeholder="+380 …" />
      <Field
        {...fieldProps('email')}
        keyboardType="email-address"
        autoCapitalize="none"
        autoCorrect={false}
        placeholder="name@…"
      />
      <Field
        {...fieldProps('price')}
        // The account's currency and the language's digit grouping, as the list will show the budget.
        label={currency ? fill(t.crm.lead.edit.priceInput, { currency: currencySymbol(locale, currency) }) : t.crm.create.price}
        placeholder={formatPrice(PRICE_EXAMPLE, locale) ?? undefined}
        keyboardType="number-pad"
      />
      <Field {...fieldProps('comment')} multiline numberOfLines={3} />
      {failure ? (
        <View style={styles.failure} accessibilityRole="alert" testID="new-lead-error">
          <Text style={styles.failureText}>{failure.message}</Text>
        </View>
      ) : null}
      <Button
        title={
          waitSeconds > 0
            ? fill(t.crm.create.retryIn, { seconds: waitSeconds })
            : failure?.retryable
              ? t.crm.create.retry
              : t.crm.create.submit
        }
        onPress={() => void onSubmit()}
        busy={isSubmitting}
        disabled={waitSeconds > 0}
        testID="new-lead-submit"
      />
    </ScrollView>
  );
}

const styles = StyleSheet.create({
  content: { padding: spacing.lg, gap: spacing.md },
  heading: { fontSize: 18, fontWeight: '700', color: colors.text },
  muted: { color: colors.muted, fontSize: 14 },
  choice: {
    flexDirection: 'row',
    alignItems: 'center',
    gap: spacing.md,
    backgroundColor: colors.surface,
    borderRadius: 12,
    borderWidth: 1,
    borderColor: colors.border,
    padding: spacing.lg,
  },
  choiceSelected: { borderColor: colors.primary },
  pressed: { opacity: 0.8 },
  choiceText: { flex: 1, fontSize: 16, color: colors.text },
  chevron: { fontSize: 20, color: colors.muted },
  dot: { width: 12, height: 12, borderRadius: 6, borderWidth: 1, borderColor: 'rgba(0,0,0,0.15)' },
  chosen: { flexDirection: 'row', alignItems: 'center', gap: spacing.sm },
  chosenText: { flex: 1, fontSize: 15, fontWeight: '600', color: colors.text },
  changeButton: { minHeight: MIN_TOUCH, minWidth: MIN_TOUCH, justifyContent: 'center', alignItems: 'flex-end' },
  link: { color: colors.primary, fontWeight: '600', fontSize: 14 },
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
    fontSize: 16,
    color: colors.text,
  },
  inputInvalid: { borderColor: colors.danger },
  fieldError: { color: colors.danger, fontSize: 13 },
  failure: { backgroundColor: colors.dangerBackground, borderRadius: 10, padding: spacing.md },
  failureText: { color: colors.danger, fontSize: 14 },
});
