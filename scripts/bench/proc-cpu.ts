import fs from 'node:fs';

/** Linux counts CPU time in ticks of 1/100 s (USER_HZ). */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) so far from a /proc stat file: `/proc/<pid>/stat` for a whole process (every thread),
 * `/proc/<pid>/task/<tid>/stat` for one thread. Fields are counted after the command's closing parenthesis, since
 * the command itself may hold spaces.
 */
export function cpuSecondsOf(statPath: string): number {
  const stat = fs.readFileSync(statPath, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU seconds the whole machine has been busy so far, over all cores (/proc/stat, idle and iowait left out). */
export function machineBusySeconds(): number {
  const ticks = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [idle = 0, iowait = 0] = [ticks[3], ticks[4]];
  return (ticks.reduce((a, b) => a + b, 0) - idle - iowait) / TICKS_PER_SECOND;
}
