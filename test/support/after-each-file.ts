/** Setup file (vitest.config.ts): run before every test file, so its hooks are the file's own. */
import { afterAll } from 'vitest';
import { removeTempDirs } from './temp-dirs.js';

afterAll(removeTempDirs);
