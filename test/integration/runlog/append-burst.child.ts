// Child process for the syscall-level test: opens a run log in argv[2], makes argv[3] concurrent
// appends, closes it, and prints how many entries landed. Run under strace to count real fdatasyncs.
import { openRunLog } from '../../../src/runlog/appender.js';

const [dir, countText] = process.argv.slice(2);
const log = await openRunLog({ dir: dir!, key: Buffer.alloc(32, 0x5a), clock: { now: () => new Date() } });
await log.append({ event: 'startup', message: 'warm-up' });
const entries = await Promise.all(
  Array.from({ length: Number(countText) }, (_, i) =>
    log.append({ event: 'executing', job_id: String(i), message: `job ${i}` }),
  ),
);
await log.close();
process.stdout.write(`${JSON.stringify({ appended: entries.length, lastSeq: entries.at(-1)?.seq })}\n`);
