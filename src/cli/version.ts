/** The version `vesta --version` prints: the package's. */
import { version } from '../../package.json';

export const VERSION: string = version;
