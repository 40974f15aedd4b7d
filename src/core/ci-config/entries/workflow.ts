/** `workflow:` — rules (whether a pipeline is created and with which variables), name, auto_cancel. */
import { attrError, child, configError, knownKeys, type Entry } from './common';
import { rules, WORKFLOW_RULES, type RuleEntry } from './rules';
import { autoCancel, type AutoCancelEntry } from './workflow-auto-cancel';
import { isMap, isString } from '../values';

export interface WorkflowEntry {
  rules?: RuleEntry[];
  name?: string;
  autoCancel?: AutoCancelEntry;
}

export function workflow(e: Entry, v: unknown): WorkflowEntry {
  if (v === null || v === undefined) return {};
  if (!isMap(v)) { configError(e, 'should be a hash'); return {}; }
  if (!knownKeys(e, v, ['rules', 'name', 'auto_cancel'])) return {};
  const out: WorkflowEntry = {};
  if (v.rules !== undefined && v.rules !== null) out.rules = rules(e, v.rules, WORKFLOW_RULES);
  if (v.name !== undefined && v.name !== null) {
    if (!isString(v.name)) attrError(e, 'name', 'should be a string');
    else if (v.name.length > 255) attrError(e, 'name', 'is too long (maximum is 255 characters)');
    else out.name = v.name;
  }
  if (v.auto_cancel !== undefined && v.auto_cancel !== null) out.autoCancel = autoCancel(child(e, 'auto_cancel'), v.auto_cancel);
  return out;
}
