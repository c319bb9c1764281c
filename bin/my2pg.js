#!/usr/bin/env node
// Entry point of the `my2pg` command: runs the compiled CLI (npm run build produces dist/).
import '../dist/src/cli/launch.js';
