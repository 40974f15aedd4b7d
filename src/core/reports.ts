/**
 * `artifacts:reports` — the report types GitLab knows, how runners upload them
 * (`artifact_type`/`artifact_format`, spec ci-yaml.md §9), and the two Baton reads:
 *   dotenv  parsed on upload as GitLab does (strict `KEY=VALUE` lines, < 5 KB, ≤ 20 variables,
 *           valid names); a bad file is refused with GitLab's message (400), so the runner
 *           fails the job; the variables go to the jobs that depend on this one;
 *   junit   parsed on upload with a streaming XML parser (bounded: decompressed size and
 *           test-case count), counted, and kept as JSON for the test report API; a file
 *           that does not parse is kept as a suite error, like GitLab.
 */
import { createGunzip } from 'node:zlib';
import { createReadStream } from 'node:fs';
import { SaxesParser } from 'saxes';
import { badRequest } from './errors';

/** Every report type GitLab accepts, with the format the runner must use and the default file name. */
export const REPORT_TYPES: Record<string, { format: 'gzip' | 'raw' | 'zip'; name: string }> = {
  junit: { format: 'gzip', name: 'junit.xml' },
  metrics: { format: 'gzip', name: 'metrics.txt' },
  dotenv: { format: 'gzip', name: '.env' },
  cobertura: { format: 'gzip', name: 'cobertura-coverage.xml' },
  jacoco: { format: 'gzip', name: 'jacoco-coverage.xml' },
  cyclonedx: { format: 'gzip', name: 'gl-sbom.cdx.json' },
  annotations: { format: 'gzip', name: 'gl-annotations.json' },
  repository_xray: { format: 'gzip', name: 'gl-repository-xray.json' },
  lsif: { format: 'zip', name: 'lsif.json' },
  sast: { format: 'raw', name: 'gl-sast-report.json' },
  secret_detection: { format: 'raw', name: 'gl-secret-detection-report.json' },
  dependency_scanning: { format: 'raw', name: 'gl-dependency-scanning-report.json' },
  container_scanning: { format: 'raw', name: 'gl-container-scanning-report.json' },
  cluster_image_scanning: { format: 'raw', name: 'gl-cluster-image-scanning-report.json' },
  dast: { format: 'raw', name: 'gl-dast-report.json' },
  license_scanning: { format: 'raw', name: 'gl-license-scanning-report.json' },
  accessibility: { format: 'raw', name: 'gl-accessibility.json' },
  codequality: { format: 'raw', name: 'gl-code-quality-report.json' },
  performance: { format: 'raw', name: 'performance.json' },
  browser_performance: { format: 'raw', name: 'browser-performance.json' },
  load_performance: { format: 'raw', name: 'load-performance.json' },
  terraform: { format: 'raw', name: 'tfplan.json' },
  requirements: { format: 'raw', name: 'requirements.json' },
  requirements_v2: { format: 'raw', name: 'requirements_v2.json' },
  coverage_fuzzing: { format: 'raw', name: 'gl-coverage-fuzzing.json' },
  api_fuzzing: { format: 'raw', name: 'gl-api-fuzzing-report.json' },
};

// ---------------------------------------------------------------- dotenv

/** GitLab's limits (ParseDotenvArtifactService): the uploaded file must be smaller than this. */
export const DOTENV_MAX_BYTES = 5 * 1024;
export const DOTENV_MAX_VARIABLES = 20;
const VARIABLE_KEY = /^[a-zA-Z0-9_]+$/;

/** Parses a dotenv report (the decompressed text) exactly as GitLab; throws a 400 with GitLab's message. */
export function parseDotenv(text: string): { key: string; value: string }[] {
  const vars = new Map<string, string>();
  // Converted to UTF-8 by the caller's decoder; a BOM is dropped.
  const body = text.replace(/^\uFEFF/, '');
  // Ruby's each_line: lines keep their "\n"; the text after the last "\n" is a line too, if any.
  const lines = body.split(/(?<=\n)/).filter((l) => l.length > 0);
  for (const line of lines) {
    const m = /^(.*?)=(.*)$/m.exec(line);
    if (!m) throw badRequest('Invalid Format');
    const key = m[1].trim();
    const value = m[2].trim();
    if (!VARIABLE_KEY.test(key) || key.length > 255) throw badRequest("Validation failed: Key can contain only letters, digits and '_'.");
    vars.delete(key);
    vars.set(key, value);
  }
  if (vars.size > DOTENV_MAX_VARIABLES) throw badRequest(`Dotenv files cannot have more than ${DOTENV_MAX_VARIABLES} variables`);
  return [...vars].map(([key, value]) => ({ key, value }));
}

// ---------------------------------------------------------------- junit

export const JUNIT_MAX_BYTES = 50 * 1024 * 1024;
export const JUNIT_MAX_CASES = 100_000;

export interface TestCase {
  status: 'success' | 'failed' | 'skipped' | 'error';
  name: string;
  classname: string;
  file: string | null;
  execution_time: number;
  system_output: string | null;
  stack_trace: string | null;
  attachment: string | null;
}

export interface ParsedJunit { cases: TestCase[]; error: string | null }

const TEXT_LIMIT = 64 * 1024;

/**
 * Streams a junit report (gzip members, or raw XML) through a SAX parser: every `testcase`
 * under a `testsuites`/`testsuite` root. Nested suites are flattened, as GitLab does.
 */
export async function parseJunitFile(path: string, format: string): Promise<ParsedJunit> {
  const cases: TestCase[] = [];
  const parser = new SaxesParser({ xmlns: false });
  let rootSeen = false;
  let depth = 0;
  let current: (TestCase & { out: string; err: string; failureText: string; message: string; inResult: string | null; inSystem: 'out' | 'err' | null }) | null = null;
  let error: string | null = null;
  parser.on('opentag', (tag) => {
    depth++;
    const name = tag.name;
    const attr = (k: string) => (typeof tag.attributes[k] === 'string' ? (tag.attributes[k] as string) : undefined);
    if (depth === 1) {
      if (name !== 'testsuites' && name !== 'testsuite') throw new Error('no testsuites or testsuite root');
      rootSeen = true;
      return;
    }
    if (name === 'testcase' && !current) {
      if (cases.length >= JUNIT_MAX_CASES) throw new Error(`number of test cases exceeded the limit of ${JUNIT_MAX_CASES}`);
      const time = Number(attr('time') ?? 0);
      current = {
        status: 'success', name: attr('name') || '(No name)', classname: attr('classname') ?? '', file: attr('file') ?? null,
        execution_time: Number.isFinite(time) ? time : 0, system_output: null, stack_trace: null, attachment: null,
        out: '', err: '', failureText: '', message: '', inResult: null, inSystem: null,
      };
      return;
    }
    if (!current) return;
    if (name === 'failure' || name === 'error' || name === 'skipped') {
      const status = name === 'failure' ? 'failed' : name;
      if (current.status === 'success' || (status !== 'skipped' && current.status === 'skipped')) current.status = status as TestCase['status'];
      current.inResult = name;
      if (!current.message) current.message = attr('message') ?? '';
    } else if (name === 'system-out') current.inSystem = 'out';
    else if (name === 'system-err') current.inSystem = 'err';
  });
  const onText = (t: string) => {
    if (!current) return;
    if (current.inResult) current.failureText = appendCapped(current.failureText, t);
    else if (current.inSystem === 'out') current.out = appendCapped(current.out, t);
    else if (current.inSystem === 'err') current.err = appendCapped(current.err, t);
  };
  parser.on('text', onText);
  parser.on('cdata', onText);
  parser.on('closetag', (tag) => {
    depth--;
    if (!current) return;
    if (tag.name === 'failure' || tag.name === 'error' || tag.name === 'skipped') current.inResult = null;
    else if (tag.name === 'system-out' || tag.name === 'system-err') current.inSystem = null;
    else if (tag.name === 'testcase') {
      const { out, err, failureText, message, inResult: _r, inSystem: _s, ...tc } = current;
      // the element's text, else its message attribute
      const text = failureText.trim() || message.trim();
      if (tc.status === 'failed' || tc.status === 'error') {
        let output = text;
        if (out.trim()) output += `${output ? '\n\n' : ''}System Out:\n\n${out.trim()}`;
        if (err.trim()) output += `${output ? '\n\n' : ''}System Err:\n\n${err.trim()}`;
        tc.system_output = output || null;
        tc.attachment = /\[\[ATTACHMENT\|(.+?)\]\]/.exec(out)?.[1] ?? null;
      } else if (tc.status === 'skipped') {
        tc.system_output = text || null;
      }
      cases.push(tc);
      current = null;
    }
  });
  let size = 0;
  try {
    const input = createReadStream(path);
    const stream = format === 'gzip' ? input.pipe(createGunzip()) : input;
    const decoder = new TextDecoder('utf-8');
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > JUNIT_MAX_BYTES) throw new Error(`the report is larger than ${JUNIT_MAX_BYTES / 1024 / 1024} MiB`);
      parser.write(decoder.decode(chunk, { stream: true }));
    }
    parser.close();
    if (!rootSeen) throw new Error('no testsuites or testsuite root');
  } catch (e) {
    error = `JUnit XML parsing failed: ${(e as Error).message.split('\n')[0]}`;
    if ((e as Error).message.startsWith('number of test cases')) error = (e as Error).message;
  }
  return { cases: error ? [] : cases, error };
}

function appendCapped(a: string, b: string): string {
  return a.length >= TEXT_LIMIT ? a : (a + b).slice(0, TEXT_LIMIT);
}

/** GitLab lists test cases by status (error, failed, success, skipped). */
export const STATUS_ORDER = ['error', 'failed', 'success', 'skipped'];
