// DsiemCommand: the shared --json flag (with its DSIEM_JSON twin) and the one place where errors become
// output. Expected errors (DsiemError, flag parsing errors) print one clean line and exit with their
// category's code; anything else is a bug and prints its stack (exit 70).

import {Command, Errors, Flags} from '@oclif/core'
import {DsiemError, EXIT_CODE_BY_CATEGORY, exitCodeFor} from '../engine/index.js'

export abstract class DsiemCommand extends Command {
  static override baseFlags = {
    json: Flags.boolean({
      description: 'Print machine-readable JSON instead of text.',
      env: 'DSIEM_JSON',
      helpGroup: 'GLOBAL',
    }),
  }

  /** Set from the parsed flags by subclasses; decides how errors are printed. */
  protected jsonOutput = false

  protected printJson(value: unknown): void {
    process.stdout.write(JSON.stringify(value) + '\n')
  }

  /** Already-serialized JSON (engine output with Go's escaping and field order). */
  protected printRawJson(json: string): void {
    process.stdout.write(json + '\n')
  }

  protected override async catch(error: Error & {exitCode?: number}): Promise<unknown> {
    if (error instanceof Errors.ExitError) throw error
    let exitCode: number
    let payload: {code: string; category: string; message: string; hint?: string}
    if (error instanceof DsiemError) {
      exitCode = exitCodeFor(error)
      payload = {code: error.code, category: error.category, message: error.message}
      if (error.hint !== undefined) payload.hint = error.hint
    } else if (error instanceof Errors.CLIError) {
      // Flag and argument parsing errors from oclif: the user's input, one line.
      exitCode = EXIT_CODE_BY_CATEGORY.user
      const firstLine = error.message.split('\n')[0] ?? error.message
      payload = {
        code: 'DSIEM_E_USAGE',
        category: 'user',
        message: firstLine,
        hint: `see dsiem ${this.id?.replaceAll(':', ' ') ?? ''} --help`,
      }
    } else {
      process.stderr.write(
        `dsiem: internal error (a bug, please report it): ${error.stack ?? error.message}\n`,
      )
      throw new Errors.ExitError(EXIT_CODE_BY_CATEGORY.bug)
    }
    if (this.jsonOutput || this.argv.includes('--json')) {
      this.printJson({error: payload})
    } else {
      const hint = payload.hint === undefined ? '' : ` (${payload.hint})`
      process.stderr.write(`dsiem: error: ${payload.message}${hint}\n`)
    }
    throw new Errors.ExitError(exitCode)
  }
}
