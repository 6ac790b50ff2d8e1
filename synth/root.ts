/** Where the project is on disk, for the entry points that read or write its files. */
import * as fs from 'fs';
import * as path from 'path';

/**
 * The project root: the parent of this file's folder when run from the sources (`synth/`), and of
 * the bundle's folder (`.build/`) when bundled; the folder itself if it holds `package.json`.
 */
export const ROOT = fs.existsSync(path.join(__dirname, 'package.json')) ? __dirname : path.resolve(__dirname, '..');
