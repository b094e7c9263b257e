// Steps that mint lasting credentials or take over accounts answer 403 `reauthentication_required` once the sign-in
// is older than the server's AIM_REAUTH_WINDOW. The API client then asks whoever registered here (the confirmation
// dialog) to get the password confirmed, and retries the step once if it was.

type Confirmer = () => Promise<boolean>;

let confirmer: Confirmer | null = null;
let pending: Promise<boolean> | null = null;

/** The dialog registers itself while a signed-in page is shown; answers the unregister function. */
export function onReauthenticationNeeded(fn: Confirmer): () => void {
  confirmer = fn;
  return () => {
    if (confirmer === fn) confirmer = null;
  };
}

/** True once the password was confirmed; false when the person cancelled or nothing can ask. One dialog at a time. */
export function confirmIdentity(): Promise<boolean> {
  if (!confirmer) return Promise.resolve(false);
  pending ??= confirmer().finally(() => {
    pending = null;
  });
  return pending;
}
