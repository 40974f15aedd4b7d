/**
 * Tests that build real repositories need the system git, as Baton itself does to read
 * `.gitlab-ci.yml`. Without it they fail with this one clear message — never skipped.
 */
import { gitVersion } from '../../src/core/git';

let checked = false;

export function requireGit(): void {
  if (checked) return;
  if (gitVersion() === null) {
    throw new Error('git is not installed (no git binary in PATH): this test builds real repositories; install git (apt-get install git) and run it again');
  }
  checked = true;
}
