/**
 * Importing this module registers the `native` backend when OpenBLAS is found
 * (without making it the default), so that tools started with
 * `node --import ./src/backends/native/auto.ts ...` (the conformance runner)
 * accept `--backend native`. Node only.
 */
import { registerNativeBackend } from './register.js';

registerNativeBackend({ makeDefault: false });
