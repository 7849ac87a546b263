// Kubernetes' name rules (k8s.io/apimachinery/pkg/util/validation): DNS-1123 labels for
// namespaces and containers, DNS-1123 subdomains for most object names.
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** '' when valid, else why not (message in Kubernetes' words). */
export function dns1123Label(v: string): string {
  if (v.length > 63) return `"${v}" must be no more than 63 characters`;
  if (!DNS1123_LABEL.test(v)) {
    return `"${v}" must be a lowercase RFC 1123 label: lowercase letters, digits and '-', starting and ending with a letter or digit (e.g. "my-name")`;
  }
  return '';
}

export function dns1123Subdomain(v: string): string {
  if (v.length > 253) return `"${v}" must be no more than 253 characters`;
  if (!DNS1123_SUBDOMAIN.test(v)) {
    return `"${v}" must be a lowercase RFC 1123 subdomain: lowercase letters, digits, '-' and '.', starting and ending with a letter or digit (e.g. "example.com")`;
  }
  return '';
}

const IANA_SVC_NAME = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** Port names (IANA_SVC_NAME): at most 15 characters, at least one letter, no "--". */
export function portName(v: string): string {
  if (v.length > 15 || !IANA_SVC_NAME.test(v) || v.includes('--') || !/[a-z]/.test(v)) {
    return `"${v}" must be at most 15 lowercase letters, digits and '-', with at least one letter and no "--"`;
  }
  return '';
}

/** Kubernetes: a Service's name is a DNS-1035 label (it becomes a DNS name and env var prefix). */
export function dns1035Label(v: string): string {
  if (v.length > 63) return `"${v}" must be no more than 63 characters`;
  if (!/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(v)) {
    return `"${v}" must be a DNS-1035 label: lowercase letters, digits and '-', starting with a letter and ending with a letter or digit (e.g. "my-name")`;
  }
  return '';
}
