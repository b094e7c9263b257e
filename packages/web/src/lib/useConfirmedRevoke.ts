import { useQueryClient } from '@tanstack/react-query';
import { useConfirmed } from './useConfirmed.js';

/**
 * Revoking one item of a list, or all of them at once, after a confirmation: `ask(item | 'all')` opens the
 * modal, `modal` is what ConfirmModal takes, and a success closes it and reloads the list under `queryKey`.
 */
export function useConfirmedRevoke<T>(queryKey: string[], revoke: { one: (item: T) => Promise<unknown>; all: () => Promise<unknown> }) {
  const queryClient = useQueryClient();
  return useConfirmed((target: T | 'all') => (target === 'all' ? revoke.all() : revoke.one(target)), {
    onDone: () => void queryClient.invalidateQueries({ queryKey }),
  });
}
