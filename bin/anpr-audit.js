#!/usr/bin/env node
// The package's bin: runs the TypeScript entry through tsx, so `npm ci` is the only setup step.
import { register } from 'tsx/esm/api';

register();
await import('./anpr-audit.ts');
