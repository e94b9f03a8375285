#!/usr/bin/env node
// The installed CLI: runs the bundled engine in dist/postgate (built by `npm run build`).
import { runCli } from '../dist/postgate/index.js';

await runCli();
