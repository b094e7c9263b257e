import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';

/**
 * Revoking one item of a list, or all of them at once, after a confirmation: `ask(item | 'all')` opens the
 * modal, `modal` is what ConfirmModal takes, and a success closes it and reloads the list under `queryKey`.
 */
export function useConfirmedRevoke<T>(queryKey: string[], revoke: { one: (item: T) => Promise<unknown>; all: () => Promise<unknown> }) {
  const queryClient = useQueryClient();
  const [pending, setPending] = useState<T | 'all' | null>(null);
  const mutation = useMutation({
    mutationFn: (target: T | 'all') => (target === 'all' ? revoke.all() : revoke.one(target)),
    onSuccess: () => {
      setPending(null);
      void queryClient.invalidateQueries({ queryKey });
    },
  });
  return {
    pending,
    ask: setPending,
    modal: {
      opened: pending !== null,
      busy: mutation.isPending,
      error: mutation.error,
      onConfirm: () => {
        if (pending !== null) mutation.mutate(pending);
      },
      onClose: () => {
        setPending(null);
        mutation.reset();
      },
    },
  };
}
