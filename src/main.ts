#!/usr/bin/env node
import { ConfigError, loadConfig } from './config/config.js';
import { StartupError, startHelm } from './helm.js';

/** Helm's process entry: configuration, start-up, and a graceful stop on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  let helm: Awaited<ReturnType<typeof startHelm>>;
  try {
    helm = await startHelm(config);
  } catch (err) {
    if (err instanceof StartupError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(3);
    }
    throw err;
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    helm.logger.info({ signal }, 'stopping');
    await helm.runLog
      .append({ event: 'shutdown', message: `Helm stopped on ${signal}` })
      .catch(() => undefined);
    await helm.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}

main().catch((err) => {
  process.stderr.write(
    `Helm failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
