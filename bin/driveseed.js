#!/usr/bin/env node
// The entry point stays plain JS so `npx driveseed` works straight after `npm ci` builds dist/.
import { main } from '../dist/src/cli/main.js';
process.exitCode = await main(process.argv);
