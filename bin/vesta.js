#!/usr/bin/env node
// The `vesta` command: runs the TypeScript CLI in src/cli through tsx's CommonJS loader.
const tsx = require('tsx/cjs/api');

const { main } = tsx.require('../src/cli/main.ts', __filename);
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
