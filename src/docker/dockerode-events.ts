import Dockerode from 'dockerode';
import { dockerOptions, guard } from './dockerode-connection.js';
import { type DockerEvents, MONITOR_EVENT_ACTIONS } from './docker-ports.js';
import { followJsonLines, toContainerEvent, toStatsSample } from './dockerode-streams.js';

/** The dockerode adapter of DockerEvents: the monitor's container events stream and streamed stats. */

export function makeDockerEvents(dockerHost: string | undefined): DockerEvents {
  const docker = new Dockerode(dockerOptions(dockerHost));
  return {
    async subscribeContainerEvents(handlers) {
      const stream = (await guard(() =>
        docker.getEvents({
          filters: { type: ['container'], event: [...MONITOR_EVENT_ACTIONS] },
        }),
      )) as NodeJS.ReadableStream & { destroy(): void };
      return followJsonLines(
        stream,
        (raw) => {
          const event = toContainerEvent(raw);
          if (event) handlers.onEvent(event);
        },
        handlers.onEnd,
      );
    },
    async streamContainerStats(id, onSample, onEnd) {
      const stream = (await guard(
        () => docker.getContainer(id).stats({ stream: true }) as unknown as Promise<NodeJS.ReadableStream>,
        `container ${id}`,
      )) as NodeJS.ReadableStream & { destroy(): void };
      return followJsonLines(stream, (raw) => onSample(toStatsSample(raw)), onEnd);
    },
  };
}
