/** How the SDK look-ups answer a failed call: `unavailable`, naming the error, so the caller can retry or report it. */

export function unavailable(error: unknown): { status: 'unavailable'; reason: string } {
  return { status: 'unavailable', reason: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
}

export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}
