import { useNavigation, useRouter } from 'expo-router';
import { useEffect, useState } from 'react';
import { StyleSheet, View } from 'react-native';

import { useAmoCrmStatus } from '@/api/amo-crm';
import { useTaskBoard } from '@/api/tasks';
import { canUseCrm, useSession } from '@/auth/session';
import { TaskBoardView } from '@/components/tasks/TaskBoardView';
import { Button } from '@/components/ui/Button';
import { ErrorView, LoadingView, MessageView } from '@/components/ui/StateViews';
import { colors, spacing } from '@/components/ui/theme';
import { useI18n } from '@/i18n';

/** The «Задачі» tab: the broker's own open amoCRM tasks, through their own connection. */
export default function TasksScreen() {
  const { t } = useI18n();
  const { session } = useSession();
  const allowed = canUseCrm(session.user);
  const status = useAmoCrmStatus({ enabled: allowed });
  const router = useRouter();

  if (!allowed) return <MessageView title={t.crm.forbiddenTitle} text={t.crm.forbiddenText} testID="tasks-forbidden" />;
  if (status.isPending) return <LoadingView testID="tasks-status-loading" />;
  if (status.isError) {
    return (
      <ErrorView title={t.amo.statusError} error={status.error} onRetry={() => void status.refetch()} testID="tasks-status-error" />
    );
  }
  if (status.data.state !== 'connected') {
    return (
      <View style={styles.gate} testID="tasks-not-connected">
        <MessageView title={t.tasks.title} text={t.tasks.notConnected} />
        <Button title={t.tasks.goToCrm} onPress={() => router.navigate('/crm')} testID="tasks-go-to-crm" />
      </View>
    );
  }
  return <Board />;
}

function Board() {
  const { t } = useI18n();
  const board = useTaskBoard();
  const [refreshing, setRefreshing] = useState(false);
  const navigation = useNavigation();
  const { refetch } = board;
  // Coming back to the tab re-reads the board (a 304 when nothing changed).
  useEffect(() => navigation.addListener('focus', () => void refetch()), [navigation, refetch]);

  if (board.isPending) return <LoadingView testID="tasks-loading" />;
  if (board.isError && !board.data) {
    return <ErrorView title={t.tasks.error} error={board.error} onRetry={() => void board.refetch()} testID="tasks-error" />;
  }
  return (
    <View style={styles.container} testID="tasks-screen">
      <TaskBoardView
        board={board.data}
        refreshing={refreshing}
        onRefresh={() => {
          setRefreshing(true);
          void board.refresh().finally(() => setRefreshing(false));
        }}
      />
    </View>
  );
}

const styles = StyleSheet.create({
  container: { flex: 1, backgroundColor: colors.background },
  gate: { flex: 1, padding: spacing.lg, backgroundColor: colors.background },
});
