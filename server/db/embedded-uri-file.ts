import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** The H2 file the embedded database keeps its data in. */
export function embeddedDbFile(dataDir: string): string {
  return path.join(dataDir, 'wisp.h2');
}

/**
 * Where a running server publishes its embedded database's address, so command-line
 * tools can use the same database while the server holds the H2 file.
 */
export function embeddedUriFile(dataDir: string): string {
  return path.join(dataDir, 'embedded-db.uri');
}

export function publishEmbeddedUri(dataDir: string, uri: string): void {
  writeFileSync(embeddedUriFile(dataDir), `${uri}\n`, { mode: 0o600 });
}

export function withdrawEmbeddedUri(dataDir: string): void {
  rmSync(embeddedUriFile(dataDir), { force: true });
}

/** The address a running server published, or null when there is none. */
export function readEmbeddedUri(dataDir: string): string | null {
  const file = embeddedUriFile(dataDir);
  if (!existsSync(file)) return null;
  const uri = readFileSync(file, 'utf8').trim();
  return uri.startsWith('mongodb://') ? uri : null;
}
