import * as Clipboard from 'expo-clipboard';
import { useMemo, useState } from 'react';
import { FlatList, StyleSheet, Text, TextInput, View } from 'react-native';

import { useCreateUser, useSetUserBlocked, useUserPages } from '@/api/admin';
import { isApiError } from '@/api/client';
import type { AdminUser, CreatedUser } from '@/api/types';
import { useSession } from '@/auth/session';
import { fill, useI18n } from '@/i18n';

import { useDebouncedValue } from '../crm/useDebouncedValue';
import { Button } from '../ui/Button';
import { FormField } from '../ui/FormField';
import { InlineConfirm } from '../ui/InlineConfirm';
import { ErrorView, LoadingView } from '../ui/StateViews';
import { colors, MIN_TOUCH, spacing } from '../ui/theme';
import { Badge } from './StateBadge';

const SEARCH_DEBOUNCE_MS = 400;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PASSWORD_MIN = 8;

/** App users: create a broker (with a one-time password shown once), block and unblock. */
export function UsersSection() {
  const { t } = useI18n();
  const [searchText, setSearchText] = useState('');
  const q = useDebouncedValue(searchText.trim(), SEARCH_DEBOUNCE_MS);
  const users = useUserPages(q ? { q } : {});
  const items = useMemo(() => users.data?.pages.flatMap((page) => page.items) ?? [], [users.data]);
  const loadMore = () => {
    if (users.hasNextPage && !users.isFetchingNextPage && !users.isFetchNextPageError) void users.fetchNextPage();
  };

  return (
    <FlatList
      data={items}
      keyExtractor={(user) => user.id}
      renderItem={({ item }) => <UserRow user={item} />}
      ListHeaderComponent={
        <View style={styles.header}>
          <CreateBrokerForm />
          <Text style={styles.title} accessibilityRole="header">
            {t.admin.users.listTitle}
          </Text>
          <TextInput
            value={searchText}
            onChangeText={setSearchText}
            placeholder={t.admin.users.searchPlaceholder}
            accessibilityLabel={t.admin.users.searchLabel}
            placeholderTextColor={colors.placeholder}
            autoCorrect={false}
            autoCapitalize="none"
            style={styles.search}
            testID="users-search"
          />
        </View>
      }
      ListEmptyComponent={
        users.isPending ? (
          <LoadingView testID="users-loading" />
        ) : users.isError ? (
          <ErrorView title={t.admin.users.error} error={users.error} onRetry={() => void users.refetch()} testID="users-error" />
        ) : (
          <Text style={styles.empty} testID="users-empty">
            {t.admin.users.empty}
          </Text>
        )
      }
      ListFooterComponent={
        users.isFetchNextPageError ? (
          <Button title={t.common.retry} variant="secondary" onPress={() => void users.fetchNextPage()} testID="users-more-retry" />
        ) : null
      }
      ItemSeparatorComponent={Separator}
      onEndReached={loadMore}
      onEndReachedThreshold={0.5}
      keyboardShouldPersistTaps="handled"
      contentContainerStyle={styles.content}
      testID="admin-users"
    />
  );
}

type FormErrors = { email?: string; name?: string; password?: string };

function CreateBrokerForm() {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [errors, setErrors] = useState<FormErrors>({});
  const [created, setCreated] = useState<CreatedUser | null>(null);
  const create = useCreateUser();

  const submit = () => {
    const next: FormErrors = {};
    if (!EMAIL.test(email.trim())) next.email = t.admin.users.invalid.email;
    if (!name.trim()) next.name = t.admin.users.invalid.name;
    if (password && password.length < PASSWORD_MIN) next.password = t.admin.users.invalid.password;
    setErrors(next);
    if (Object.keys(next).length) return;
    setCreated(null);
    create.mutate(
      { email: email.trim(), name: name.trim(), ...(password ? { password } : {}) },
      {
        onSuccess: (result) => {
          setCreated(result);
          setEmail('');
          setName('');
          setPassword('');
        },
      },
    );
  };

  const serverError = create.isError
    ? isApiError(create.error, 'email_taken')
      ? t.admin.users.emailTaken
      : t.admin.users.createFailed
    : null;

  return (
    <View style={styles.card} testID="create-broker-form">
      <Text style={styles.title} accessibilityRole="header">
        {t.admin.users.createTitle}
      </Text>
      <FormField
        label={t.admin.users.email}
        value={email}
        onChangeText={setEmail}
        error={errors.email}
        autoCapitalize="none"
        keyboardType="email-address"
        testID="create-broker-email"
      />
      <FormField label={t.admin.users.name} value={name} onChangeText={setName} error={errors.name} testID="create-broker-name" />
      <FormField
        label={t.admin.users.password}
        value={password}
        onChangeText={setPassword}
        error={errors.password}
        hint={t.admin.users.passwordHint}
        secureTextEntry
        autoCapitalize="none"
        testID="create-broker-password"
      />
      <Button title={t.admin.users.create} onPress={submit} busy={create.isPending} testID="create-broker-submit" />
      {serverError ? (
        <Text style={styles.error} accessibilityRole="alert" testID="create-broker-error">
          {serverError}
        </Text>
      ) : null}
      {created ? <CreatedNotice created={created} onDone={() => setCreated(null)} /> : null}
    </View>
  );
}

/** The generated password is in this component's state only, and gone once the admin taps «Готово». */
function CreatedNotice({ created, onDone }: { created: CreatedUser; onDone(): void }) {
  const { t } = useI18n();
  const [copied, setCopied] = useState(false);
  const oneTimePassword = created.oneTimePassword;
  return (
    <View style={styles.created} accessibilityRole="alert" testID="create-broker-created">
      <Text style={styles.createdText}>{fill(t.admin.users.created, { email: created.user.email })}</Text>
      {oneTimePassword ? (
        <>
          <Text style={styles.createdText}>{t.admin.users.oneTimePassword}</Text>
          <Text style={styles.password} selectable testID="create-broker-one-time-password">
            {oneTimePassword}
          </Text>
          <View style={styles.actions}>
            <Button
              title={copied ? t.admin.users.copied : t.admin.users.copy}
              variant="secondary"
              onPress={() => {
                void Clipboard.setStringAsync(oneTimePassword).then(() => setCopied(true));
              }}
              testID="create-broker-copy"
            />
            <Button title={t.admin.users.done} onPress={onDone} testID="create-broker-done" />
          </View>
        </>
      ) : (
        <Button title={t.admin.users.done} variant="secondary" onPress={onDone} testID="create-broker-done" />
      )}
    </View>
  );
}

function UserRow({ user }: { user: AdminUser }) {
  const { t } = useI18n();
  const { session } = useSession();
  const [confirming, setConfirming] = useState(false);
  const setBlocked = useSetUserBlocked();
  const blocked = user.status === 'BLOCKED';
  const roles = t.admin.users.roles;
  const role = user.role in roles ? roles[user.role as keyof typeof roles] : user.role;
  const isSelf = session.user?.id === user.id;
  const error = setBlocked.isError
    ? isApiError(setBlocked.error, 'cannot_block_self')
      ? t.admin.users.cannotBlockSelf
      : t.admin.users.actionFailed
    : null;

  return (
    <View style={styles.row} testID={`user-${user.email}`}>
      <View style={styles.rowHead}>
        <View style={styles.grow}>
          <Text style={styles.name} numberOfLines={1}>
            {user.name}
          </Text>
          <Text style={styles.muted} numberOfLines={1}>
            {`${user.email} · ${role}`}
          </Text>
        </View>
        <Badge
          label={t.admin.users.status[user.status]}
          tone={blocked ? 'bad' : 'good'}
          testID={`user-${user.email}-status`}
        />
      </View>
      {!confirming && !isSelf ? (
        <Button
          title={blocked ? t.admin.users.unblock : t.admin.users.block}
          accessibilityLabel={fill(blocked ? t.admin.users.unblockLabel : t.admin.users.blockLabel, { name: user.name })}
          variant={blocked ? 'secondary' : 'danger'}
          onPress={() => {
            setBlocked.reset();
            setConfirming(true);
          }}
          testID={`user-${user.email}-${blocked ? 'unblock' : 'block'}`}
        />
      ) : null}
      {confirming ? (
        <InlineConfirm
          title={fill(blocked ? t.admin.users.unblockTitle : t.admin.users.blockTitle, { name: user.name })}
          text={blocked ? t.admin.users.unblockText : t.admin.users.blockText}
          confirmLabel={blocked ? t.admin.users.unblockConfirm : t.admin.users.blockConfirm}
          busy={setBlocked.isPending}
          error={error}
          onCancel={() => setConfirming(false)}
          onConfirm={() =>
            setBlocked.mutate({ userId: user.id, blocked: !blocked }, { onSuccess: () => setConfirming(false) })
          }
          testID={`user-${user.email}-confirm`}
        />
      ) : null}
    </View>
  );
}

function Separator() {
  return <View style={styles.separator} />;
}

const styles = StyleSheet.create({
  content: { paddingBottom: spacing.xl },
  header: { gap: spacing.md, paddingBottom: spacing.sm },
  card: { backgroundColor: colors.surface, borderRadius: 12, padding: spacing.md, gap: spacing.sm },
  title: { fontSize: 17, fontWeight: '700', color: colors.text },
  search: {
    minHeight: MIN_TOUCH,
    borderWidth: 1,
    borderColor: colors.border,
    borderRadius: 10,
    backgroundColor: colors.surface,
    paddingHorizontal: spacing.md,
    fontSize: 15,
    color: colors.text,
  },
  error: { fontSize: 14, color: colors.danger },
  created: { backgroundColor: colors.successBackground, borderRadius: 10, padding: spacing.md, gap: spacing.sm },
  createdText: { fontSize: 14, color: colors.text },
  password: {
    fontSize: 18,
    fontWeight: '700',
    color: colors.text,
    fontFamily: 'monospace',
    backgroundColor: colors.surface,
    borderRadius: 8,
    padding: spacing.sm,
  },
  actions: { flexDirection: 'row', flexWrap: 'wrap', gap: spacing.sm },
  row: { backgroundColor: colors.surface, borderRadius: 12, padding: spacing.md, gap: spacing.sm },
  rowHead: { flexDirection: 'row', alignItems: 'center', gap: spacing.sm },
  grow: { flex: 1 },
  name: { fontSize: 16, fontWeight: '600', color: colors.text },
  muted: { fontSize: 13, color: colors.muted },
  empty: { textAlign: 'center', color: colors.muted, padding: spacing.xl },
  separator: { height: spacing.sm },
});
