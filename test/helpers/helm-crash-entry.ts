// Helm as src/main.ts starts it, with the crash tests' fault hook (crash-point.ts) as the executor's
// observer of recorded steps: the crash matrix kills this process at an exact step of an operation.
// Only tests start it (crash-rig.ts, when HELM_TEST_CRASH_AT_STEP is set); Helm itself carries no hook.
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { type Helm, StartupError, startHelm } from '../../src/helm.js';
import { crashHook, crashPointFrom } from './crash-point.js';

async function main(): Promise<void> {
  const point = crashPointFrom(process.env);
  let helm: Helm | undefined;
  const stop = async (signal: string) => {
    if (!helm) process.exit(0);
    await helm.runLog
      .append({ event: 'shutdown', message: `Helm stopped on ${signal}` })
      .catch(() => undefined);
    await helm.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  helm = await startHelm(loadConfig(), point ? { onStepRecorded: crashHook(point) } : {});
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(err instanceof ConfigError ? 2 : err instanceof StartupError ? 3 : 1);
});
