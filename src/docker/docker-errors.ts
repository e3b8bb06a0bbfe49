import type { PrivilegeProblem } from './privileges.js';

/** The errors of the Docker ports: what a caller can tell apart without knowing the adapter. */

export class DockerUnavailableError extends Error {
  constructor(override readonly cause: unknown) {
    super(`the Docker engine did not answer (${describe(cause)})`);
    this.name = this.constructor.name;
  }
}

export class DockerNotFoundError extends Error {
  constructor(what: string) {
    super(`${what} does not exist on the Docker engine`);
    this.name = this.constructor.name;
  }
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? e?.message ?? String(err);
}

/** A Docker API error with a status code (other than 404, which is DockerNotFoundError). */
export class DockerOperationError extends Error {
  constructor(
    what: string,
    readonly statusCode: number,
    detail: string,
  ) {
    super(`${what}: Docker answered ${statusCode}: ${detail}`);
    this.name = this.constructor.name;
  }
}

export class DockerPullError extends Error {
  constructor(
    readonly reference: string,
    detail: string,
    /** The registry said the manifest (or repository) does not exist. */
    readonly notFound: boolean,
  ) {
    super(`pull of ${reference} failed: ${detail}`);
    this.name = this.constructor.name;
  }
}

/** createContainer was asked for a privilege the replaced container did not have. Nothing was created. */
export class ContainerCreateRefusedError extends Error {
  constructor(
    readonly containerName: string,
    readonly problems: readonly PrivilegeProblem[],
  ) {
    super(
      `refused to create ${containerName || 'a container'}: ${problems.map((p) => p.detail).join('; ')} ` +
        '(the container it replaces did not have this)',
    );
    this.name = this.constructor.name;
  }
}
