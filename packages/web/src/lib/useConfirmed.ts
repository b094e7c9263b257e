import { useMutation } from '@tanstack/react-query';
import { useState } from 'react';

/**
 * An action on one item that asks first: `ask(item)` opens the dialog, `modal` is what ConfirmModal takes. A success
 * closes the dialog and hands the answer to `onDone`; closing it forgets the error, and `onClose` clears whatever
 * else the dialog held. `reset` forgets the last answer, for a dialog that went on to show it.
 */
export function useConfirmed<T, R>(run: (item: T) => Promise<R>, options: { onDone?: (answer: R, item: T) => void; onSettled?: () => void; onClose?: () => void } = {}) {
  const [pending, setPending] = useState<T | null>(null);
  const mutation = useMutation({
    mutationFn: run,
    onSuccess: (answer: R, item: T) => {
      setPending(null);
      options.onDone?.(answer, item);
    },
    ...(options.onSettled && { onSettled: options.onSettled }),
  });
  return {
    pending,
    ask: setPending,
    reset: mutation.reset,
    modal: {
      opened: pending !== null,
      busy: mutation.isPending,
      error: mutation.error,
      onConfirm: () => {
        if (pending !== null) mutation.mutate(pending);
      },
      onClose: () => {
        setPending(null);
        options.onClose?.();
        mutation.reset();
      },
    },
  };
}
