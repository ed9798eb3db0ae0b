#!/usr/bin/env node
import { main } from './cli';

void main(process.argv, process.env).then((code) => {
  process.exitCode = code;
  // `run` exits from its signal handler; other commands end here once their clients close.
  if (code !== 0) process.exit(code);
});
