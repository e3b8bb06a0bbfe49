/**
 * Docker's objects in Helm's own types: what `docker inspect` shows of a container and an image, and
 * what creating a container takes. Each declares only the fields Helm reads or writes (the engine
 * sends more, and a container Helm recreates keeps them: its HostConfig is copied whole). The field
 * names and shapes are Docker's API, so the dockerode adapter passes its objects through unchanged
 * (they are assignable to these, and these to what dockerode's createContainer takes).
 */

export interface HealthConfig {
  Test?: string[] | undefined;
  /** Nanoseconds. */
  Interval?: number | undefined;
  Timeout?: number | undefined;
  StartPeriod?: number | undefined;
  StartInterval?: number | undefined;
  Retries?: number | undefined;
}

export interface RestartPolicy {
  Name: string;
  MaximumRetryCount?: number | undefined;
}

export interface MountSettings {
  Target: string;
  Source: string;
  Type: 'bind' | 'volume' | 'tmpfs' | 'image';
  ReadOnly?: boolean | undefined;
  /** A local-driver volume with a `device` (or `o=bind`) option is a bind mount by another name. */
  VolumeOptions?:
    | {
        NoCopy: boolean;
        Labels: { [label: string]: string };
        DriverConfig: { Name: string; Options: { [option: string]: string } };
        Subpath?: string;
      }
    | undefined;
}

/** Host port bindings by "port/protocol"; Docker sends null for an exposed port that is not published. */
export type PortBindings = {
  [portAndProtocol: string]: Array<{ HostIp?: string; HostPort?: string }> | null;
};

export interface DeviceMapping {
  PathOnHost?: string;
  PathInContainer?: string;
  CgroupPermissions?: string;
}

export interface DeviceRequest {
  Driver?: string | undefined;
  Count?: number | undefined;
  DeviceIDs?: string[] | undefined;
  Capabilities?: string[][] | undefined;
  Options?: { [key: string]: string } | undefined;
}

export interface HostConfig {
  Binds?: string[] | undefined;
  Mounts?: MountSettings[] | undefined;
  PortBindings?: PortBindings | undefined;
  NetworkMode?: string | undefined;
  RestartPolicy?: RestartPolicy | undefined;
  Init?: boolean | undefined;
  /** Bytes; 0 when unlimited. */
  Memory?: number | undefined;
  /** The log driver and its options (Docker puts the daemon's log-opts here too). */
  LogConfig?: { Type: string; Config: unknown } | undefined;
  // The privileges a new container may not gain (privileges.ts).
  Privileged?: boolean | undefined;
  CapAdd?: string[] | null | undefined;
  CapDrop?: string[] | null | undefined;
  PidMode?: string | undefined;
  IpcMode?: string | undefined;
  UsernsMode?: string | undefined;
  Devices?: DeviceMapping[] | null | undefined;
  DeviceCgroupRules?: string[] | undefined;
  DeviceRequests?: DeviceRequest[] | undefined;
  SecurityOpt?: string[] | null | undefined;
}

/** A mount as `docker inspect` reports it on the container (what is mounted, wherever it came from). */
export interface ContainerMount {
  Type: 'bind' | 'volume' | 'image' | 'tmpfs' | 'npipe' | 'cluster';
  Name?: string | undefined;
  Source: string;
  Destination: string;
  Driver?: string | undefined;
  Mode?: string | undefined;
  RW: boolean;
  Propagation?: string | undefined;
}

/** The Config both a container and an image carry (the image's are the defaults a container inherits). */
export interface ContainerConfig {
  Hostname: string;
  Domainname: string;
  User: string;
  AttachStdin: boolean;
  AttachStdout: boolean;
  AttachStderr: boolean;
  ExposedPorts: { [portAndProtocol: string]: object };
  Tty: boolean;
  OpenStdin: boolean;
  StdinOnce: boolean;
  Env: string[];
  Cmd: string[];
  Image: string;
  Volumes: { [volume: string]: object };
  WorkingDir: string;
  Entrypoint?: string | string[] | undefined;
  Labels: { [label: string]: string };
  Healthcheck?: HealthConfig | undefined;
  StopSignal?: string | undefined;
  /** Seconds (`docker run --stop-timeout`); absent when not set. */
  StopTimeout?: number | undefined;
}

export interface ContainerState {
  /** created, running, paused, restarting, removing, exited, dead. */
  Status: string;
  Running: boolean;
  Restarting: boolean;
  OOMKilled: boolean;
  ExitCode: number;
  StartedAt: string;
  FinishedAt: string;
  Health?:
    | { Status: string; FailingStreak: number; Log: Array<{ ExitCode: number; Output: string }> }
    | undefined;
}

export interface ContainerInspect {
  Id: string;
  Created: string;
  /** With Docker's leading slash. */
  Name: string;
  /** The image's id (sha256:…). */
  Image: string;
  RestartCount: number;
  /** The json-file log's path on the host. */
  LogPath: string;
  State: ContainerState;
  Config: ContainerConfig;
  HostConfig: HostConfig;
  Mounts: ContainerMount[];
  NetworkSettings: {
    Networks: { [network: string]: { Aliases?: string[] | null } };
  };
}

export interface ImageInspect {
  Id: string;
  RepoTags: string[];
  RepoDigests: string[];
  Config: Pick<
    ContainerConfig,
    | 'User'
    | 'ExposedPorts'
    | 'Env'
    | 'Cmd'
    | 'Volumes'
    | 'WorkingDir'
    | 'Entrypoint'
    | 'Labels'
    | 'Healthcheck'
    | 'StopSignal'
  >;
}

/** What creating a container takes (Docker's create body plus its name). */
export interface ContainerCreateOptions
  extends Partial<Omit<ContainerConfig, 'Env' | 'Cmd' | 'Labels' | 'Image'>> {
  name?: string | undefined;
  Image?: string | undefined;
  Env?: string[] | undefined;
  Cmd?: string[] | undefined;
  Labels?: { [label: string]: string } | undefined;
  HostConfig?: HostConfig | undefined;
  NetworkingConfig?: { EndpointsConfig?: { [network: string]: { Aliases?: string[] } } } | undefined;
}
