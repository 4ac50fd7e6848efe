/**
 * The Kubernetes release the simulated API server plays (1.29 to 1.35): what `/version` answers,
 * and the version-dependent behaviours of the streaming subresources.
 *
 * - `/version` (apimachinery pkg/version/types.go `Info`): from 1.33 it also carries the
 *   emulation and minimum-compatibility versions (compatibility versions, KEP-4330).
 * - `v5.channel.k8s.io` for pods/exec is served by the API server itself (the StreamTranslator of
 *   KEP-4006, feature gate TranslateStreamCloseWebsocketRequests, on by default from 1.30); a 1.29
 *   server proxies the WebSocket to the kubelet, which speaks up to v4.
 * - `AuthorizePodWebsocketUpgradeCreatePermission` (beta, on by default from 1.35,
 *   kubernetes/kubernetes#134577): a WebSocket upgrade of pods/exec, pods/attach or
 *   pods/portforward, which arrives as a GET and is authorized as `get`, must also be allowed
 *   `create` (pkg/registry/core/pod/rest/subresources.go `Connect`, authorize.go
 *   `ensureAuthorizedForVerb`).
 */

/** What `GET /version` answers. */
export interface VersionInfo {
  major: string;
  minor: string;
  emulationMajor?: string;
  emulationMinor?: string;
  minCompatibilityMajor?: string;
  minCompatibilityMinor?: string;
  gitVersion: string;
  gitCommit: string;
  gitTreeState: string;
  buildDate: string;
  goVersion: string;
  compiler: string;
  platform: string;
}

/** Feature gates of the streaming subresources that an operator may switch off. */
export interface StreamFeatureGates {
  /** Default: on from 1.35 (beta), absent before. */
  AuthorizePodWebsocketUpgradeCreatePermission?: boolean;
  /** Default: on from 1.30 (beta). */
  TranslateStreamCloseWebsocketRequests?: boolean;
}

/** The release played, with the behaviours that depend on it. */
export interface KubeVersion {
  readonly minor: number;
  readonly info: VersionInfo;
  /** WebSocket upgrades of pods/exec|attach|portforward are also authorized as `create`. */
  readonly authorizeWebsocketCreate: boolean;
  /** The API server itself serves `v5.channel.k8s.io` exec (and translates kubelet failures into a Status). */
  readonly translatesExecStreams: boolean;
}

/** The default release: 1.32. */
export const DEFAULT_KUBE_VERSION = '1.32';

/** Builds of each minor release, as their /version answered (the `.0` release unless noted). */
const RELEASES: Record<number, Pick<VersionInfo, 'gitVersion' | 'gitCommit' | 'buildDate' | 'goVersion'>> = {
  29: { gitVersion: 'v1.29.0', gitCommit: '3f7a50f38688eb332e2a1b013678c6435d539ae6', buildDate: '2023-12-13T08:45:03Z', goVersion: 'go1.21.5' },
  30: { gitVersion: 'v1.30.0', gitCommit: '7c48c2bd72b9bf5c44d21d7338cc7bea77d0ad2a', buildDate: '2024-04-17T17:27:03Z', goVersion: 'go1.22.2' },
  31: { gitVersion: 'v1.31.0', gitCommit: '9edcffcde5595e8a5b1a35f88c421764e575afce', buildDate: '2024-08-13T22:44:37Z', goVersion: 'go1.22.5' },
  32: { gitVersion: 'v1.32.0', gitCommit: '70d3cc986aa8221cd1dfb1121852688902d3bf53', buildDate: '2024-12-11T17:59:15Z', goVersion: 'go1.23.3' },
  // 1.33.0's build is not recorded here; 1.33.7's is.
  33: { gitVersion: 'v1.33.7', gitCommit: 'a7245cdf3f69e11356c7e8f92b3e78ca4ee4e757', buildDate: '2025-12-09T14:35:23Z', goVersion: 'go1.24.11' },
  34: { gitVersion: 'v1.34.0', gitCommit: 'f28b4c9efbca5c5c0af716d9f2d5702667ee8a45', buildDate: '2025-08-27T10:09:04Z', goVersion: 'go1.24.6' },
  35: { gitVersion: 'v1.35.0', gitCommit: '66452049f3d692768c39c797b21b793dce80314e', buildDate: '2025-12-17T12:39:26Z', goVersion: 'go1.25.5' },
};

/**
 * The release named by `version` (`1.35`, `v1.35`, `1.35.2`, `v1.35.2`); a patch the table does
 * not know keeps the minor's build facts under its own gitVersion. Throws for a malformed version
 * or a minor outside 1.29–1.35.
 */
export function kubeVersion(version: string = DEFAULT_KUBE_VERSION, gates: StreamFeatureGates = {}): KubeVersion {
  const m = /^v?1\.(\d+)(?:\.(\d+))?$/.exec(version.trim());
  const minor = Number(m?.[1]);
  const release = RELEASES[minor];
  if (!m || !release) throw new Error(`unsupported Kubernetes version "${version}" (the simulator plays 1.29 to 1.35)`);
  const gitVersion = m[2] === undefined ? release.gitVersion : `v1.${minor}.${m[2]}`;
  const compatibility =
    minor >= 33
      ? { emulationMajor: '1', emulationMinor: String(minor), minCompatibilityMajor: '1', minCompatibilityMinor: String(minor - 1) }
      : {};
  const info: VersionInfo = {
    major: '1',
    minor: String(minor),
    ...compatibility,
    gitVersion,
    gitCommit: release.gitCommit,
    gitTreeState: 'clean',
    buildDate: release.buildDate,
    goVersion: release.goVersion,
    compiler: 'gc',
    platform: 'linux/amd64',
  };
  return {
    minor,
    info,
    authorizeWebsocketCreate: minor >= 35 && gates.AuthorizePodWebsocketUpgradeCreatePermission !== false,
    translatesExecStreams: minor >= 30 && gates.TranslateStreamCloseWebsocketRequests !== false,
  };
}
