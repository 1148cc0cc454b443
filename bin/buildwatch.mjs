#!/usr/bin/env node
// Runs the TypeScript CLI through tsx, so `npx buildwatch` works right after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

// The local CLI runs on the Node.js of the machine; the SDK's Node 22 notice is noise on stderr here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
await import('./buildwatch.ts');
