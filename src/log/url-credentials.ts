/**
 * The password a URL carries in its user-info part (https://user:secret@host), decoded, or null.
 * Model endpoints (ANTHROPIC_BASE_URL, OLLAMA_HOST) may sit behind a proxy that wants one: the
 * redactor masks it wherever it would reach a log line.
 */
export function urlPassword(url: string): string | null {
  try {
    const password = new URL(url).password;
    return password ? decodeURIComponent(password) : null;
  } catch {
    return null;
  }
}
