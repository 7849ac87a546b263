// The node proxy's public surface, for the agent to wire.
export { Proxier, type ProxierOptions, type SyncResult } from './proxier.js';
export { buildRuleset, type Ruleset, type RulesetOptions } from './ruleset.js';
export { fullTransaction, partialTransaction, deleteTableTransaction } from './transaction.js';
export { nftRunner, NftError, type NftRunner } from './nft.js';
