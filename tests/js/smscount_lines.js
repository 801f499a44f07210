// Test harness: runs webui/static/smscount.js under node as the page does (a script setting
// window.modemdSmsCount) and answers one JSON line per JSON line of text read on stdin.
"use strict";
const fs = require("fs");
const path = require("path");
const readline = require("readline");
const vm = require("vm");

const script = process.argv[2] || path.join(__dirname, "..", "..", "webui", "static", "smscount.js");
const sandbox = { window: {} };
vm.runInNewContext(fs.readFileSync(script, "utf8"), sandbox, { filename: script });
const count = sandbox.window.modemdSmsCount;

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
lines.on("line", (line) => {
  // JSON.parse/stringify keep every UTF-16 unit, so texts arrive exactly as Python sent them
  const result = count(JSON.parse(line));
  process.stdout.write(JSON.stringify(Object.assign({}, result)) + "\n");
});
