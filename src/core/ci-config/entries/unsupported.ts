/**
 * Keywords GitLab accepts that Baton cannot honour. They are refused by name — never
 * ignored — so a pipeline never behaves differently from what its file says.
 */
import type { Entry } from './common';

export const UNSUPPORTED: Record<string, string> = {
  id_tokens: 'Baton cannot sign OIDC ID tokens (there is no GitLab OIDC issuer behind it)',
  secrets: 'Baton has no external secrets integration (Vault, Azure Key Vault, GCP Secret Manager); use CI/CD variables',
  run: 'CI/CD Steps (`run:`) are an experiment Baton does not run; use `script:`',
  inputs: 'job inputs are not supported by Baton',
  identity: 'Baton has no cloud identity federation',
  dast_configuration: 'Baton has no DAST site and scanner profiles (a GitLab Ultimate feature)',
};

export function unsupported(e: Entry, key: string): undefined {
  const why = UNSUPPORTED[key] ?? 'not supported';
  e.errors.raw(`${e.location === '' ? 'root' : e.location} config uses \`${key}\`, which Baton does not support: ${why}`);
  return undefined;
}
