/**
 * The kubeconfig input's YAML document, parsed once: the settings check that the input is a YAML
 * mapping (to tell it from base64), the kubeconfig loader then reads the same document. Merge
 * keys (`<<: *anchor`) are read as js-yaml, which client-node parses with, and Go's YAML decoder
 * read them. Kept here, apart from the loader, so that the settings do not load the Kubernetes
 * client.
 */
import { parseDocument, type Document } from 'yaml';

let last: { readonly text: string; readonly doc: Document.Parsed } | undefined;

export function kubeconfigDocument(text: string): Document.Parsed {
  if (last?.text !== text) last = { text, doc: parseDocument(text, { logLevel: 'silent', merge: true }) };
  return last.doc;
}
