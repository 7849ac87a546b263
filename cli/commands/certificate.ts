// skiff certificate approve|deny NAME..., as kubectl certificate: adds the Approved or Denied
// condition through the CSR's /approval subresource (which also needs `approve` on the signer).
// Deciding again what is already decided the same way is a no-op; reversing a verdict is refused
// by the server.
import { CSR_CONDITIONS, csrCondition } from '../../proto/api/csr.js';
import { unwrapAs, wrap } from '../../proto/api/kinds.js';
import { line, type Ctx } from '../context.js';

export async function certificateCommand(ctx: Ctx, verdict: 'approve' | 'deny', names: readonly string[], force = false): Promise<number> {
  const type = verdict === 'approve' ? CSR_CONDITIONS.approved : CSR_CONDITIONS.denied;
  for (const name of names) {
    const csr = unwrapAs('CertificateSigningRequest', await ctx.api().get({ kind: 'CertificateSigningRequest', name }));
    if (csrCondition(csr, type) && !force) {
      line(ctx.stdout, `certificatesigningrequest.certificates.k8s.io/${name} ${verdict === 'approve' ? 'approved' : 'denied'}`);
      continue;
    }
    const t = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const status = (csr.status ??= { conditions: [], certificate: Buffer.alloc(0) });
    status.conditions = status.conditions.filter((c) => c.type !== type);
    status.conditions.push({
      type, status: 'True', reason: verdict === 'approve' ? 'KubectlApprove' : 'KubectlDeny',
      message: `This CSR was ${verdict === 'approve' ? 'approved' : 'denied'} by skiff certificate ${verdict}.`,
      lastUpdateTime: t, lastTransitionTime: '', lastProbeTime: '', lastHeartbeatTime: '',
    });
    await ctx.api().update({ object: wrap('CertificateSigningRequest', csr), dryRun: false, subresource: 'approval' });
    line(ctx.stdout, `certificatesigningrequest.certificates.k8s.io/${name} ${verdict === 'approve' ? 'approved' : 'denied'}`);
  }
  return 0;
}
