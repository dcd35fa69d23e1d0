import type { Command } from '../command';

// Not built yet: see the open issues.
const command: Command = async () => {
  process.stderr.write('tablesync plan: not implemented yet\n');
  return 1;
};
export default command;
