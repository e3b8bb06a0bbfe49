import { readFileSync } from 'node:fs';

// Read once from package.json so the heartbeat and doctor report what is actually running.
function readVersion(): string {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'helm' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next candidate: the layout differs between tsx (src/base/) and the build (dist/src/base/)
    }
  }
  return '0.0.0-unknown';
}

export const HELM_VERSION = readVersion();
