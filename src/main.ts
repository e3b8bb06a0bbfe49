#!/usr/bin/env node
import { ConfigError, loadConfig } from './config/config.js';
import { type Helm, StartupError, startHelm } from './helm.js';

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

  // Signal handlers go in before start-up: a SIGTERM that arrives while Helm is still starting waits
  // for the start to finish and then stops it cleanly, rather than killing it half-started.
  let helm: Helm | undefined;
  let stopSignal: string | undefined;
  const stop = async (signal: string) => {
    if (stopSignal) return;
    stopSignal = signal;
    if (!helm) return;
    helm.logger.info({ signal }, 'stopping');
    await helm.runLog
      .append({ event: 'shutdown', message: `Helm stopped on ${signal}` })
      .catch(() => undefined);
    await helm.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGHUP', () => helm?.reloadWardenKeys());

  try {
    helm = await startHelm(config);
  } catch (err) {
    if (err instanceof StartupError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(3);
    }
    throw err;
  }
  if (stopSignal) {
    const signal = stopSignal;
    stopSignal = undefined;
    await stop(signal);
  }
}

main().catch((err) => {
  process.stderr.write(
    `Helm failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
