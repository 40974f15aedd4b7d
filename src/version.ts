/** The version Baton reports (`/api/v4/version`, CI_SERVER_VERSION, `baton --version`). */
import pkg from '../package.json' with { type: 'json' };

export const VERSION: string = pkg.version;
/** Set at build time by scripts (BATON_REVISION); "dev" when running from source. */
export const REVISION: string = process.env.BATON_BUILD_REVISION ?? 'dev';
