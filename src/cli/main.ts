#!/usr/bin/env node
/**
 * The `stride` executable (package.json "bin"). All the work is in program.ts;
 * this file only runs it and sets the exit code.
 */
import { main } from './program.js';

process.exitCode = await main(process.argv.slice(2));
