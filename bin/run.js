#!/usr/bin/env node
// The only entry point: every command and every role runs through here.
import {execute} from '@oclif/core'

await execute({dir: import.meta.url})
