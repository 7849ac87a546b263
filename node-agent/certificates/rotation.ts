// When to renew (the kubelet's certificate manager): at a jittered 70-90 % of the
// certificate's lifetime, so a fleet issued at once does not renew at once, and while the old
// certificate is still valid for the rest.
export function renewalDeadline(notBefore: Date, notAfter: Date, random: number): Date {
  const total = notAfter.getTime() - notBefore.getTime();
  return new Date(notBefore.getTime() + total * (0.7 + 0.2 * Math.min(1, Math.max(0, random))));
}

/** A failed renewal is tried again after this long, doubling to a ceiling (never past expiry). */
export function retryDelayMs(attempt: number, initialMs = 2000, maxMs = 5 * 60_000): number {
  return Math.min(maxMs, initialMs * 2 ** Math.max(0, attempt - 1));
}
