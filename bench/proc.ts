// CPU time of benchmark processes from /proc/<pid>/stat (bench/run.ts, bench/commerce-server.ts).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** CPU time (ms) a process has used: utime + stime (+ its waited-for children's, for the postmaster). */
export function cpuMs(pid: number, withChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // f[0] is field 3 (state)
    const ticks = Number(f[11]) + Number(f[12]) + (withChildren ? Number(f[13]) + Number(f[14]) : 0);
    return (ticks * 1000) / CLOCK_TICKS;
  } catch {
    return 0; // the process has ended (its time is in the postmaster's children figures)
  }
}
const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** All CPU time of one embedded cluster: the postmaster (with its ended children) and its live children. */
export function clusterCpuMs(databaseDir: string | undefined): number {
  if (!databaseDir) return 0;
  let postmaster: number;
  try {
    postmaster = Number(readFileSync(`${databaseDir}/postmaster.pid`, 'utf8').split('\n')[0]);
  } catch {
    return 0;
  }
  let total = cpuMs(postmaster, true);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) total += cpuMs(Number(entry));
    } catch { /* gone */ }
  }
  return total;
}

