import Dockerode from 'dockerode';
import { dockerMessage, dockerOptions, guardOp } from './dockerode-connection.js';
import { makeDockerReads } from './dockerode-reads.js';
import {
  ContainerCreateRefusedError,
  DockerNotFoundError,
  DockerPullError,
  DockerUnavailableError,
} from './docker-errors.js';
import type { DockerMaintenanceOps, DockerOps, RegistryAuth } from './docker-ports.js';
import { privilegeProblems } from './privileges.js';

/**
 * The dockerode adapter of DockerOps: the only place Helm changes Docker state. Maintenance (images,
 * volumes, archives) is never forced: Docker refuses to delete an image or a volume that a container
 * still uses, and Helm relies on that refusal.
 */

export function makeDockerOps(dockerHost: string | undefined): DockerOps {
  const docker = new Dockerode(dockerOptions(dockerHost));
  const reads = makeDockerReads(dockerHost);

  const container = (id: string) => docker.getContainer(id);

  return {
    ...reads,
    ...maintenanceOps(docker),
    async createContainer(options, { allowedFrom }) {
      const problems = privilegeProblems(options, allowedFrom);
      if (problems.length > 0) throw new ContainerCreateRefusedError(options.name ?? '', problems);
      const c = await guardOp(
        () => docker.createContainer(options),
        `create container ${options.name ?? ''}`,
      );
      return c.id;
    },
    async startContainer(id) {
      await guardOp(() => container(id).start(), `start container ${id}`, [304]);
    },
    async stopContainer(id, timeoutS) {
      await guardOp(() => container(id).stop({ t: timeoutS }), `stop container ${id}`, [304]);
    },
    async restartContainer(id, timeoutS) {
      await guardOp(() => container(id).restart({ t: timeoutS }), `restart container ${id}`);
    },
    async killContainer(id, signal = 'SIGKILL') {
      await guardOp(() => container(id).kill({ signal }), `kill container ${id}`);
    },
    async removeContainer(id, opts = {}) {
      await guardOp(
        () => container(id).remove({ force: opts.force === true, v: opts.volumes === true }),
        `remove container ${id}`,
      );
    },
    async renameContainer(id, name) {
      await guardOp(() => container(id).rename({ name }), `rename container ${id} to ${name}`);
    },
    async setRestartPolicy(id, policy) {
      await guardOp(() => container(id).update({ RestartPolicy: policy }), `update container ${id}`);
    },
    async findImage(reference) {
      try {
        return await guardOp(() => docker.getImage(reference).inspect(), `image ${reference}`);
      } catch (err) {
        if (err instanceof DockerNotFoundError) return null;
        throw err;
      }
    },
    async tagImage(image, repo, tag) {
      await guardOp(() => docker.getImage(image).tag({ repo, tag }), `tag image ${image} as ${repo}:${tag}`);
    },
    async pullImage(reference, auth) {
      await pullImage(docker, reference, auth);
    },
  };
}

/** Pulls `repository@digest` (or a tag); the credentials go in the X-Registry-Auth header only. */
async function pullImage(docker: Dockerode, reference: string, auth: RegistryAuth | null): Promise<void> {
  const at = reference.indexOf('@');
  const colon = reference.lastIndexOf(':');
  const [fromImage, tag] =
    at >= 0
      ? [reference.slice(0, at), reference.slice(at + 1)]
      : colon > reference.lastIndexOf('/')
        ? [reference.slice(0, colon), reference.slice(colon + 1)]
        : [reference, 'latest'];
  const scrub = (text: string) =>
    auth ? text.split(auth.password).join('[redacted]').split(auth.username).join('[user]') : text;
  let stream: NodeJS.ReadableStream;
  try {
    // createImage with the credentials as its own argument: they become the X-Registry-Auth
    // header and never a query string.
    stream = (await docker.createImage(
      auth ? { username: auth.username, password: auth.password, serveraddress: auth.serveraddress } : {},
      { fromImage, tag },
    )) as NodeJS.ReadableStream;
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (status === undefined) throw new DockerUnavailableError(err);
    const detail = scrub(dockerMessage(err));
    throw new DockerPullError(
      reference,
      detail,
      status === 404 || /manifest unknown|not found/i.test(detail),
    );
  }
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(stream, (err: Error | null) => {
      if (!err) return resolve();
      const detail = scrub(err.message ?? String(err));
      reject(new DockerPullError(reference, detail, /manifest unknown|not found/i.test(detail)));
    });
  });
}

function maintenanceOps(docker: Dockerode): DockerMaintenanceOps {
  return {
    async archivePath(id, path) {
      return guardOp(
        () => docker.getContainer(id).getArchive({ path }) as Promise<NodeJS.ReadableStream>,
        `archive ${path} of container ${id}`,
      );
    },
    async removeImage(reference) {
      await guardOp(
        () => docker.getImage(reference).remove({ force: false, noprune: true }),
        `remove image ${reference}`,
      );
    },
    async removeVolume(name) {
      await guardOp(() => docker.getVolume(name).remove({ force: false }), `remove volume ${name}`);
    },
  };
}
