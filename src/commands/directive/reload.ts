import {runningServePid} from '../../roles/io/process-files.js'
import {DsiemCommand} from '../base-command.js'
import {dataDirFlag} from '../shared-flags.js'

export default class DirectiveReload extends DsiemCommand {
  static override summary = 'Make a running dsiem serve reload its directives and assets (same as SIGHUP).'
  static override description =
    "Backlogs of directives that did not change keep running; changed and removed directives start over. A file with an error keeps the running set and is reported in the server's log."
  static override examples = ['<%= config.bin %> directive reload --data-dir /var/lib/dsiem']
  static override flags = {
    'data-dir': dataDirFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(DirectiveReload)
    this.jsonOutput = flags.json
    const pid = runningServePid(flags['data-dir'])
    process.kill(pid, 'SIGHUP')
    if (flags.json) this.printJson({signalled: pid})
    else this.log(`asked dsiem serve (pid ${pid}) to reload its directives; see its log for the result`)
  }
}
