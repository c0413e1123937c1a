import {DsiemCommand} from './base-command.js'
import {buildInfo} from '../roles/io/build-info.js'

export default class Version extends DsiemCommand {
  static override summary = 'Print the dsiem version and build information.'
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json']

  async run(): Promise<void> {
    const {flags} = await this.parse(Version)
    this.jsonOutput = flags.json
    const info = buildInfo(this.config.version)
    if (flags.json) this.printJson(info)
    else
      this.log(
        `dsiem ${info.version} (built ${info.buildTime}, commit ${info.commit}, node ${info.node} ${info.platform})`,
      )
  }
}
