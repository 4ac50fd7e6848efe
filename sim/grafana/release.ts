/**
 * What a Grafana release changes in the answers the action reads, for the releases the simulator
 * plays (9.5.x, 10.4.x, 11.x, 12.x): one feature set per `major.minor`, each feature with the
 * upstream change it comes from. Everything else (routes, permissions, provisioning) is the same
 * across these releases.
 */
import { createHash } from 'node:crypto';

export interface GrafanaRelease {
  /** The version string Grafana reports (`/api/health`, `/api/frontend/settings`, logs). */
  readonly version: string;
  /** The build commit it reports. */
  readonly commit: string;
  readonly buildDate: string;
  /**
   * The Prometheus backend implements CheckHealth (10.0+: pkg/tsdb/prometheus/healthcheck.go,
   * later pkg/promlib/healthcheck.go). Before, `GET /api/datasources/uid/:uid/health` reaches
   * the plugin client's ErrMethodNotImplemented, which pkg/api/plugins.go
   * translatePluginRequestErrorToAPIError answers `response.Error(404, "Not found", err)` —
   * grafana/grafana#65970; the 9.x UI tested Prometheus with a frontend `1+1` query instead.
   */
  readonly prometheusHealthCheck: boolean;
  /**
   * The Prometheus backend is pkg/promlib (10.0+); 9.x's pkg/tsdb/prometheus computes
   * `$__rate_interval` from the step only and answers a query naming an unknown datasource
   * `500 {"message":"Query data error"}` instead of `404 "Data source not found"`.
   */
  readonly promlib: boolean;
  /**
   * Authentication runs through the authn broker (10.1+, grafana/grafana#69620 "Use auth broker
   * by default"): refusals are errutil errors, `{"message","messageId","statusCode","traceID"}`
   * (pkg/services/authn/authnimpl errCantAuthenticateReq `auth.unauthorized`, the password
   * client's `password-auth.failed`, `api-key.invalid`), and `POST /login` answers
   * `{"message":"Logged in","redirectUrl":"/"}` (authn.HandleLoginResponse). Before (the
   * contexthandler's own checks), refusals are `c.JsonApiErr` bodies — `{"message":"Unauthorized"}`,
   * `{"message":"Invalid username or password","traceID":""}` — and the login answer has a
   * `redirectUrl` only when a `redirect_to` cookie came with it.
   */
  readonly authnBroker: boolean;
  /**
   * Login also writes `grafana_session_expiry` (the client-side token rotation, on by default from
   * 10.3: grafana/grafana#78384): the epoch second of the session's next rotation, not HttpOnly so
   * the front end can read it; its name is fixed whatever `login_cookie_name` says.
   * 9.5's pkg/middleware/cookies WriteSessionCookie writes only the session cookie.
   */
  readonly sessionExpiryCookie: boolean;
  /**
   * Plugin errors are errutil errors (pkg/plugins/errors.go): a plugin without CheckHealth answers
   * 404 `{"message":"Method not implemented","messageId":"plugin.notImplemented",…}`, a failed
   * one `plugin.healthCheck`. Earlier releases answer the plain `response.Error` bodies. The
   * release that switched is placed at 11.0 here (it falls between 10.4 and 11.x).
   */
  readonly pluginErrutil: boolean;
  /**
   * `prometheusDataplane` on by default (10.0: grafana/grafana#67100; the toggle was removed in
   * 11.x, grafana/grafana#92218, always on since): numeric-multi vector frames, typeVersion [0,1],
   * value fields named after `__name__`.
   */
  readonly dataplane: boolean;
  /**
   * `/api/health` key order: 9.5 and 10.x build it with simplejson (a map, so `encoding/json`
   * sorts the keys: commit, database, version); 11.x and later marshal the `healthResponse`
   * struct of pkg/api/http_server.go (declared order: database, version, commit). The release that
   * switched is placed at 11.0 here.
   */
  readonly healthKeys: 'sorted' | 'declared';
  /**
   * Per-query results carry `errorSource` (plugin SDK DataResponse.ErrorSource, written by Grafana
   * 11's Prometheus backend); 9.5 and 10.4 answers have only `status`, `frames` and `error`.
   */
  readonly queryErrorSource: boolean;
}

/** The commit and build date of the releases whose values are recorded (11.5.0 from the wire reference). */
const BUILDS: Readonly<Record<string, { commit: string; buildDate: string }>> = {
  '11.5.0': { commit: '4550cfb5b7', buildDate: '2025-01-28T16:05:32Z' },
};
const DEFAULT_BUILD_DATE = '2025-01-28T16:05:32Z';

/** `[major, minor]` of a version string; unparsable versions count as the simulator's default, 11.5. */
function majorMinor(version: string): [number, number] {
  const match = /^v?(\d+)\.(\d+)/.exec(version);
  return match ? [Number(match[1]), Number(match[2])] : [11, 5];
}

function atLeast(version: string, major: number, minor: number): boolean {
  const [ma, mi] = majorMinor(version);
  return ma > major || (ma === major && mi >= minor);
}

/**
 * The feature set of a version. Releases between the ones played here take the features of
 * their place in the order above; a build commit not recorded for a version is a stable
 * placeholder derived from the version string (shaped like Grafana's 10-hex short commit).
 */
export function grafanaRelease(version: string): GrafanaRelease {
  const build = BUILDS[version] ?? {
    commit: createHash('sha1').update(`grafana ${version}`).digest('hex').slice(0, 10),
    buildDate: DEFAULT_BUILD_DATE,
  };
  return {
    version,
    ...build,
    prometheusHealthCheck: atLeast(version, 10, 0),
    promlib: atLeast(version, 10, 0),
    authnBroker: atLeast(version, 10, 1),
    sessionExpiryCookie: atLeast(version, 10, 3),
    pluginErrutil: atLeast(version, 11, 0),
    dataplane: atLeast(version, 10, 0),
    healthKeys: atLeast(version, 11, 0) ? 'declared' : 'sorted',
    queryErrorSource: atLeast(version, 11, 0),
  };
}

/** An errutil error's public body (pkg/util/errutil PublicError, as response.Err writes it). */
export function errutilBody(status: number, messageId: string, message: string): Record<string, unknown> {
  return { message, messageId, statusCode: status, traceID: '' };
}
