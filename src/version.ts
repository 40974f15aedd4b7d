/** The version Baton reports (`/api/v4/version`, CI_SERVER_VERSION, `baton --version`). */
import pkg from '../package.json' with { type: 'json' };
import { gitRevision } from './build-info' with { type: 'macro' };

export const VERSION: string = pkg.version;
/** The git revision, fixed when the code is bundled (so the binary knows it too). */
export const REVISION: string = gitRevision();
