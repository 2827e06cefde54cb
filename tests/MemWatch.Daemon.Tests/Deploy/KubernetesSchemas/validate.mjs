// Validates Kubernetes manifests (multi-document YAML on stdin, as `helm template` prints them) against the schemas
// that kubernetes-models generates from the Kubernetes and Prometheus Operator OpenAPI definitions: types, required
// fields, enums, formats. Unknown fields are not reported. Prints one line per document; exits 1 on any error.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

const modules = {
  "v1": "kubernetes-models/v1",
  "apps/v1": "kubernetes-models/apps/v1",
  "rbac.authorization.k8s.io/v1": "kubernetes-models/rbac.authorization.k8s.io/v1",
  "monitoring.coreos.com/v1": "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1",
};

let failed = false;
for (const parsed of parseAllDocuments(readFileSync(0, "utf8"))) {
  if (parsed.errors.length > 0) {
    console.log(`ERROR yaml: ${parsed.errors.map(e => e.message).join("; ")}`);
    failed = true;
    continue;
  }
  const doc = parsed.toJS();
  if (doc === null) continue;
  const where = `${doc.kind}/${doc.metadata?.name}`;
  const path = modules[doc.apiVersion];
  const Model = path ? (await import(path))[doc.kind] : undefined;
  if (!Model) {
    console.log(`ERROR ${where}: no schema for ${doc.apiVersion} ${doc.kind}`);
    failed = true;
    continue;
  }
  try {
    new Model(doc).validate();
    console.log(`OK ${where}`);
  } catch (e) {
    console.log(`ERROR ${where}: ${e.message}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
