// Collects every violation of one object (never just the first) as FieldCauses with the full
// field path, the way Kubernetes' field.ErrorList does.
import type { FieldCause } from '../../../proto/gen/skiff/v1/api.js';

export class Causes {
  readonly list: FieldCause[] = [];
  constructor(readonly source = '') {}

  add(field: string, message: string): void {
    this.list.push({ field, message, source: this.source });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }
}

export const join = (path: string, field: string): string => (path ? `${path}.${field}` : field);
