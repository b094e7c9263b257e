#!/usr/bin/env node
// npm links a workspace's bin before `prepare` builds dist/, and skips a bin whose file is missing then: with the
// bin pointing into dist/, a fresh clone's `npm install` left no `npx aim`. This file is committed, so it is linked.
import '../dist/bin.js';
