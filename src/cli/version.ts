/** The version `vesta --version` prints: the package's. */
import pkg from '../../package.json';

export const VERSION: string = pkg.version;
