/**
 * What Linux says about a process and the machine (/proc), for benchmarks that measure other
 * processes: resident memory, CPU time, and the CPU time the host stole from this VM.
 */
import fs from 'node:fs';

/** Clock ticks per second of /proc's CPU counters (USER_HZ): 100 on every Linux build we run on. */
const TICKS_PER_SECOND = 100;

/** VmRSS and VmHWM (peak) of a process, in bytes. */
export function memoryOf(pid: number): { rss: number; peak: number } {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') * 1024, peak: kib('VmHWM') * 1024 };
}

/** User + system CPU seconds a process has used. */
export function cpuSecondsOf(pid: number): number {
  // After the command's closing parenthesis, utime and stime are the 12th and 13th fields.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/** CPU seconds the host has stolen from this VM, over all cores (`steal` in /proc/stat). */
export function stolenSeconds(): number {
  const cpu = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  return Number(cpu[8]) / TICKS_PER_SECOND;
}
