import path from 'node:path'
import {ConfigError, type DirectiveSet} from '../../engine/index.js'
import {loadDirectivesFromDir} from '../../roles/io/config-dir.js'
import {DsiemCommand} from '../base-command.js'
import {allowSingleStageFlag, configDirFlag, filePatternFlag} from '../shared-flags.js'

export default class DirectiveValidate extends DsiemCommand {
  static override summary =
    'Check directive files the way dsiem loads them, and list every skipped directive.'
  static override description =
    "Loads directives_*.json files in lexicographic order with upstream Dsiem's validation. Exits 1 when a file is not valid JSON or when no directive is valid."
  static override examples = [
    '<%= config.bin %> directive validate --config-dir directives',
    '<%= config.bin %> directive validate -c /etc/dsiem/configs -f "directives_backend-0_*.json" --json',
  ]
  static override flags = {
    'config-dir': configDirFlag,
    'file-pattern': filePatternFlag,
    'allow-single-stage': allowSingleStageFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(DirectiveValidate)
    this.jsonOutput = flags.json
    const where = path.join(flags['config-dir'], flags['file-pattern'])
    let set: DirectiveSet
    try {
      set = loadDirectivesFromDir({
        configDir: flags['config-dir'],
        filePattern: flags['file-pattern'],
        allowSingleStage: flags['allow-single-stage'],
      })
    } catch (error) {
      // Upstream's validate exits 1 on a load error.
      if (error instanceof ConfigError)
        throw new ConfigError(error.message, error.code, {exitCode: 1, cause: error})
      throw error
    }
    const summary = `found ${set.directives.length} valid entries out of ${set.totalFromFiles} directive(s) in ${where}`
    if (flags.json) {
      this.printJson({
        valid: set.directives.length,
        total: set.totalFromFiles,
        files: set.files,
        directives: set.directives.map((d) => ({id: d.id, name: d.name, rules: d.rules.length})),
        skipped: set.skipped.map(({file, id, name, reason}) => ({file, id, name, reason})),
        warnings: set.warnings,
        summary,
      })
    } else {
      for (const skipped of set.skipped) this.log(`${skipped.file}: ${skipped.message}`)
      for (const warning of set.warnings) this.log(`${warning.file}: warning: ${warning.message}`)
      this.log(summary)
    }
    if (set.directives.length === 0) {
      if (!flags.json) process.stderr.write(`dsiem: error: no directive loaded from the file (${where})\n`)
      this.exit(1)
    }
  }
}
