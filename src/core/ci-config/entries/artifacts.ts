/** `artifacts:` — paths, exclude, untracked, when, expire_in, name, expose_as, access/public, reports. */
import type { ArtifactsSpec, ReportSpec } from '../../../db/job-spec';
import { parseExpireIn } from '../../duration';
import { attrError, boolean, child, configError, exclusiveKeys, knownKeys, stringList, stringOrList, type Entry } from './common';
import { isInteger, isMap, isString } from '../values';

const KEYS = ['name', 'untracked', 'paths', 'reports', 'when', 'expire_in', 'expose_as', 'exclude', 'public', 'access'];
const WHEN = ['on_success', 'on_failure', 'always'] as const;
const ACCESS = ['none', 'developer', 'maintainer', 'all'] as const;
export const REPORT_TYPES = [
  'junit', 'codequality', 'sast', 'secret_detection', 'dependency_scanning', 'container_scanning', 'dast',
  'performance', 'browser_performance', 'load_performance', 'license_scanning', 'metrics', 'lsif', 'dotenv',
  'terraform', 'accessibility', 'coverage_fuzzing', 'api_fuzzing', 'cluster_image_scanning', 'requirements',
  'requirements_v2', 'coverage_report', 'cyclonedx', 'annotations', 'repository_xray', 'sarif',
];
// Ruby's \w is ASCII: [a-zA-Z0-9_]
const EXPOSE_AS = /^\w[-\w ]*$/;

export function artifacts(e: Entry, v: unknown): ArtifactsSpec | undefined {
  if (!isMap(v)) return configError(e, 'should be a hash');
  if (!knownKeys(e, v, KEYS)) return undefined;
  const before = e.errors.count;
  exclusiveKeys(e, v, ['access', 'public']);
  const spec: ArtifactsSpec = {};
  const set = (k: string) => v[k] !== undefined && v[k] !== null;
  if (set('name')) { if (isString(v.name)) spec.name = v.name; else attrError(e, 'name', 'should be a string'); }
  if (set('untracked')) { const b = boolean(e, v.untracked, 'untracked'); if (b !== undefined) spec.untracked = b; }
  if (set('paths')) { const p = stringList(e, v.paths, 'paths'); if (p) spec.paths = p; }
  if (set('exclude')) { const p = stringList(e, v.exclude, 'exclude'); if (p) spec.exclude = p; }
  if (set('when')) {
    const w = WHEN.find((x) => x === v.when);
    if (!isString(v.when)) attrError(e, 'when', 'should be a string');
    else if (!w) attrError(e, 'when', `should be one of: ${WHEN.join(', ')}`);
    else spec.when = w;
  }
  if (set('expire_in')) {
    // a string (GitLab's validate_duration refuses a bare number)
    if (isString(v.expire_in) && parseExpireIn(v.expire_in) !== null) spec.expire_in = v.expire_in;
    else attrError(e, 'expire_in', 'should be a duration');
  }
  if (set('public')) {
    const b = boolean(e, v.public, 'public');
    if (b !== undefined) spec.access = b ? 'all' : 'developer';
  }
  if (set('access')) {
    const a = ACCESS.find((x) => x === v.access);
    if (!isString(v.access)) attrError(e, 'access', 'should be a string');
    else if (!a) attrError(e, 'access', `should be one of: ${ACCESS.join(', ')}`);
    else spec.access = a;
  }
  if (set('expose_as')) {
    if (!isString(v.expose_as)) attrError(e, 'expose_as', 'should be a string');
    else {
      if (v.expose_as.length > 100) attrError(e, 'expose_as', 'is too long (maximum is 100 characters)');
      if (!EXPOSE_AS.test(v.expose_as)) attrError(e, 'expose_as', "can contain only letters, digits, '-', '_' and spaces");
      if (!set('paths')) attrError(e, 'paths', "can't be blank");
      else if (Array.isArray(v.paths) && v.paths.some((p) => isString(p) && p.includes('*'))) attrError(e, 'paths', "can't contain '*' when used with 'expose_as'");
      spec.expose_as = v.expose_as;
    }
  }
  if (set('reports')) { const r = reports(child(e, 'reports'), v.reports); if (r) spec.reports = r; }
  return e.errors.count === before ? spec : undefined;
}

function reports(e: Entry, v: unknown): ReportSpec[] | undefined {
  if (!isMap(v)) return configError(e, 'should be a hash');
  if (!knownKeys(e, v, REPORT_TYPES)) return undefined;
  const out: ReportSpec[] = [];
  const before = e.errors.count;
  for (const [type, value] of Object.entries(v)) {
    if (value === null || value === undefined) continue;
    if (type === 'coverage_report') {
      const ce = child(e, 'coverage_report');
      if (!isMap(value)) { configError(ce, 'should be a hash'); continue; }
      if (!knownKeys(ce, value, ['coverage_format', 'path'])) continue;
      if (!['cobertura', 'jacoco'].includes(value.coverage_format as string)) attrError(ce, 'coverage_format', 'must be one of supported formats: cobertura, jacoco');
      if (!isString(value.path) || value.path === '') attrError(ce, 'path', "can't be blank");
      if (e.errors.count === before) out.push({ type: value.coverage_format as string, paths: [value.path as string] });
      continue;
    }
    const paths = stringOrList(e, value, type);
    if (paths) out.push({ type, paths });
  }
  return e.errors.count === before ? out : undefined;
}
