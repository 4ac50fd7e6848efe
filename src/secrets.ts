/**
 * Every credential the action learns (inputs, kubeconfig tokens, keys, passwords) is registered
 * here before anything is logged: the action forwards each one to `core.setSecret` so the runner
 * masks it, and `redact` scrubs any text we print ourselves (CLI output, error messages).
 */
type Listener = (value: string) => void;

export class SecretRegistry {
  private readonly values = new Set<string>();
  private readonly listeners: Listener[] = [];

  /**
   * Registers a credential (and its base64 and URL-encoded forms, which also leak it). Values read
   * from YAML may be anything: only text is a credential here.
   */
  add(value: string | undefined | null): void {
    if (typeof value !== 'string' || value.length < 4) return;
    for (const form of forms(value)) {
      if (this.values.has(form)) continue;
      this.values.add(form);
      for (const listener of this.listeners) listener(form);
    }
  }

  /** Calls `listener` for every credential known now and every one added later. */
  onAdd(listener: Listener): void {
    this.listeners.push(listener);
    for (const value of this.values) listener(value);
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is replaced whole.
    for (const value of [...this.values].sort((a, b) => b.length - a.length)) {
      if (out.includes(value)) out = out.split(value).join('***');
    }
    return out;
  }
}

function forms(value: string): string[] {
  const all = [value];
  // Multi-line values (PEM keys): also each long line, since a message may quote one line.
  if (value.includes('\n')) {
    for (const line of value.split('\n')) if (line.trim().length >= 16) all.push(line.trim());
  }
  const b64 = Buffer.from(value).toString('base64');
  if (b64 !== value) all.push(b64);
  const enc = encodeURIComponent(value);
  if (enc !== value) all.push(enc);
  return all;
}

/** The process-wide registry: credentials come from inputs and the kubeconfig, both global. */
export const secrets = new SecretRegistry();
