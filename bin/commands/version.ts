/** The product version (package.json), for `--version` and the OCSF export's product block. */
import { readFileSync } from 'node:fs';

export function productVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
