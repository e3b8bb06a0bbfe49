import Dockerode from 'dockerode';
import { dockerOptions, guard } from './dockerode-connection.js';
import { DockerUnavailableError } from './docker-errors.js';
import { type ContainerEvent, type DockerEvidenceReads, MONITOR_EVENT_ACTIONS } from './docker-ports.js';
import { followJsonLines, toContainerEvent, toStatsSample } from './dockerode-streams.js';

/** The dockerode adapter of DockerEvidenceReads: bounded reads of a container's past, for the advisor. */

export function makeDockerEvidenceReads(dockerHost: string | undefined): DockerEvidenceReads {
  const docker = new Dockerode(dockerOptions(dockerHost));
  return {
    async containerEventsBetween(id, { sinceMs, untilMs, limit }) {
      // dockerode sends these as query strings; its types allow only numbers, which lose the fraction.
      const options = {
        since: dockerTimestamp(sinceMs),
        until: dockerTimestamp(untilMs),
        filters: { type: ['container'], container: [id], event: [...MONITOR_EVENT_ACTIONS] },
      } as unknown as Dockerode.GetEventsOptions;
      const stream = (await guard(() => docker.getEvents(options))) as NodeJS.ReadableStream & {
        destroy(): void;
      };
      const events: ContainerEvent[] = [];
      await new Promise<void>((resolve, reject) => {
        followJsonLines(
          stream,
          (raw) => {
            const event = toContainerEvent(raw);
            if (event) events.push(event);
            if (events.length > limit) events.shift();
          },
          (error) => (error ? reject(new DockerUnavailableError(error)) : resolve()),
        );
      });
      return events;
    },
    async containerStatsOnce(id) {
      const raw = await guard(
        () => docker.getContainer(id).stats({ stream: false }) as unknown as Promise<Record<string, unknown>>,
        `container ${id}`,
      );
      return toStatsSample(raw);
    },
  };
}

/**
 * Docker's "seconds.nanoseconds" (the fraction is read as a count of nanoseconds, so it has 9 digits):
 * whole seconds would drop the events of the current second.
 */
function dockerTimestamp(ms: number): string {
  const whole = Math.floor(ms);
  return `${Math.floor(whole / 1000)}.${String(whole % 1000).padStart(3, '0')}000000`;
}
