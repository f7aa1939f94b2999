import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef } from 'react';

import { apiGetConditional, apiRequest, type Tagged } from './client';
import { useForcedRefresh } from './crm';
import type { NewTaskInput, Task, TaskBoard } from './types';

/** Query keys of the broker's tasks, all under `taskKeys.all` so one call refetches them. */
export const taskKeys = {
  all: ['tasks'] as const,
  board: () => [...taskKeys.all, 'board'] as const,
};

/**
 * The broker's open tasks: overdue, today and the next 14 days, kept with their ETag;
 * `refresh` (pull-to-refresh) reads amoCRM again instead of the backend's copy.
 */
export function useTaskBoard(options: { enabled?: boolean } = {}) {
  const queryClient = useQueryClient();
  const forcedRef = useRef(false);
  const query = useQuery({
    queryKey: taskKeys.board(),
    queryFn: ({ signal }) =>
      apiGetConditional<TaskBoard>('/crm/tasks', queryClient.getQueryData<Tagged<TaskBoard>>(taskKeys.board()), {
        signal,
        query: { refresh: forcedRef.current || undefined },
      }),
    select: (tagged) => tagged.data,
    enabled: options.enabled ?? true,
  });
  const refresh = useForcedRefresh(forcedRef, query.refetch);
  return { ...query, refresh };
}

/** What the tab's badge counts: tasks that need the broker today (overdue ones included). */
export function dueNowCount(board: TaskBoard | undefined): number {
  return board ? board.counts.overdue + board.counts.today : 0;
}

export function createTask(input: NewTaskInput, idempotencyKey: string): Promise<Task> {
  return apiRequest<Task>('/crm/tasks', {
    method: 'POST',
    body: input,
    headers: { 'Idempotency-Key': idempotencyKey },
  });
}

export function completeTask(taskId: number, result: string): Promise<Task> {
  return apiRequest<Task>(`/crm/tasks/${taskId}/complete`, { method: 'POST', body: { result } });
}

export function useCreateTask() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ input, idempotencyKey }: { input: NewTaskInput; idempotencyKey: string }) =>
      createTask(input, idempotencyKey),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: taskKeys.all }),
  });
}

function withoutTask(board: TaskBoard, taskId: number): TaskBoard {
  const keep = (tasks: Task[]) => tasks.filter((task) => task.id !== taskId);
  const overdue = keep(board.overdue);
  const today = keep(board.today);
  const upcoming = keep(board.upcoming);
  return {
    overdue,
    today,
    upcoming,
    counts: {
      overdue: board.counts.overdue - (board.overdue.length - overdue.length),
      today: board.counts.today - (board.today.length - today.length),
      upcoming: board.counts.upcoming - (board.upcoming.length - upcoming.length),
    },
  };
}

/** Completes a task with its result; the board drops it at once and is re-read afterwards. */
export function useCompleteTask() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ taskId, result }: { taskId: number; result: string }) => completeTask(taskId, result),
    onSuccess: (task) => {
      const held = queryClient.getQueryData<Tagged<TaskBoard>>(taskKeys.board());
      if (held) queryClient.setQueryData<Tagged<TaskBoard>>(taskKeys.board(), { data: withoutTask(held.data, task.id), etag: null });
      void queryClient.invalidateQueries({ queryKey: taskKeys.all });
    },
  });
}
