/**
 * The simulated cluster's certificates: a CA, the API server's serving certificate for
 * 127.0.0.1/localhost, and client certificates (CN = user, O = groups) as kubeadm issues them.
 * Keys are ECDSA P-256, made by the openssl CLI in a temporary directory that is removed at once.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';
const EC_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

export interface KeyPair {
  certPem: string;
  keyPem: string;
}

/** `/CN=user/O=group1/O=group2`, escaping what openssl treats specially. */
function subject(cn: string, orgs: string[]): string {
  const escape = (v: string) => v.replace(/([/\\+=,])/g, '\\$1');
  return ['', `CN=${escape(cn)}`, ...orgs.map((o) => `O=${escape(o)}`)].join('/');
}

async function inTempDir<T>(work: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-kube-pki-'));
  try {
    return await work(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export class CertificateAuthority {
  private constructor(
    readonly certPem: string,
    private readonly keyPem: string,
  ) {}

  /** A new self-signed CA. */
  static async create(name = 'kubernetes'): Promise<CertificateAuthority> {
    return inTempDir(async (dir) => {
      const key = join(dir, 'ca.key');
      const crt = join(dir, 'ca.crt');
      await run(OPENSSL, [
        'req', '-x509', '-new', ...EC_KEY, '-keyout', key, '-out', crt, '-subj', subject(name, []), '-days', '3650',
        '-addext', 'basicConstraints=critical,CA:TRUE',
        '-addext', 'keyUsage=critical,digitalSignature,keyCertSign,cRLSign',
      ]);
      return new CertificateAuthority(await readFile(crt, 'utf8'), await readFile(key, 'utf8'));
    });
  }

  /** The API server's serving certificate for 127.0.0.1 and localhost. */
  issueServerCert(): Promise<KeyPair> {
    return this.issue(subject('kube-apiserver', []), ['extendedKeyUsage=serverAuth', 'subjectAltName=IP:127.0.0.1,DNS:localhost']);
  }

  /** A client certificate authenticating `user` in `groups`. */
  issueClientCert(user: string, groups: string[] = []): Promise<KeyPair> {
    return this.issue(subject(user, groups), ['extendedKeyUsage=clientAuth']);
  }

  private issue(subj: string, extensions: string[]): Promise<KeyPair> {
    return inTempDir(async (dir) => {
      const p = (name: string) => join(dir, name);
      await writeFile(p('ca.crt'), this.certPem);
      await writeFile(p('ca.key'), this.keyPem, { mode: 0o600 });
      const ext = ['basicConstraints=CA:FALSE', 'keyUsage=critical,digitalSignature,keyEncipherment', ...extensions];
      await writeFile(p('ext.cnf'), ext.join('\n') + '\n');
      await run(OPENSSL, ['req', '-new', ...EC_KEY, '-keyout', p('leaf.key'), '-out', p('leaf.csr'), '-subj', subj]);
      await run(OPENSSL, [
        'x509', '-req', '-in', p('leaf.csr'), '-CA', p('ca.crt'), '-CAkey', p('ca.key'),
        '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '3650', '-extfile', p('ext.cnf'), '-out', p('leaf.crt'),
      ]);
      return { certPem: await readFile(p('leaf.crt'), 'utf8'), keyPem: await readFile(p('leaf.key'), 'utf8') };
    });
  }
}
