/** An error answer of the API: its catalogued code and the human description it sent. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly description: string,
  ) {
    super(description);
    this.name = 'ApiError';
  }
}

/** What to show a person for any failure: the API's `error_description` when there is one. */
export function describeError(error: unknown): string {
  // The person cancelled the password dialog; the server's words name an HTTP route, not what to do here.
  if (error instanceof ApiError && error.code === 'reauthentication_required') return 'Not done: this step needs your password again. Try once more and confirm it.';
  if (error instanceof ApiError) return error.description;
  if (error instanceof TypeError) return 'The server could not be reached. Check your connection and try again.';
  if (error instanceof Error) return error.message;
  return 'Something went wrong.';
}

export async function toApiError(response: Response): Promise<ApiError> {
  let code = 'http_error';
  let description = `The server answered ${response.status}.`;
  try {
    const body = (await response.json()) as { error?: unknown; error_description?: unknown };
    if (typeof body.error === 'string') code = body.error;
    if (typeof body.error_description === 'string') description = body.error_description;
  } catch {
    // Not JSON (a proxy's page): keep the generic description.
  }
  return new ApiError(response.status, code, description);
}
