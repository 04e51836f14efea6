import { readdirSync, readFileSync } from 'node:fs'

/** Linux reports utime/stime in clock ticks; USER_HZ is 100 on every mainstream architecture. */
const TICKS_PER_SECOND = 100

interface ProcStat {
  readonly pid: number
  readonly ppid: number
  readonly comm: string
  /** utime + stime + cutime + cstime in seconds: its own CPU and that of children it has reaped (curl, renderers). */
  readonly cpuSeconds: number
}

function readStat(pid: number): ProcStat | null {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return null
  }
  // comm is in parentheses and may itself contain spaces or parentheses: split after the last ')'.
  const close = text.lastIndexOf(')')
  const comm = text.slice(text.indexOf('(') + 1, close)
  const fields = text.slice(close + 2).split(' ')
  // fields[0] is field 3 (state) of proc(5): ppid is field 4, utime 14, stime 15, cutime 16, cstime 17.
  const ppid = Number(fields[1])
  const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
  return { pid, ppid, comm, cpuSeconds: ticks / TICKS_PER_SECOND }
}

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map(Number)
}

function chromiumProcessType(pid: number): string {
  try {
    // Zygote-forked children rewrite their title as one space-separated string, so no split on NUL.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
    return /--type=(\S+)/.exec(cmdline)?.[1] ?? 'main'
  } catch {
    return 'gone'
  }
}

/** CPU seconds one process has used so far (0 once it is gone). */
export function cpuSecondsOf(pid: number): number {
  return readStat(pid)?.cpuSeconds ?? 0
}

/** The first process whose command line contains every one of `needles` (e.g. a unique data folder). */
export function findPid(needles: readonly string[]): number | null {
  for (const pid of allPids()) {
    let cmdline: string
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
    } catch {
      continue
    }
    if (needles.every((needle) => cmdline.includes(needle))) return pid
  }
  return null
}

/** Like `findPid`, matching `NAME=value` in the process environment instead. */
export function findPidByEnv(name: string, value: string): number | null {
  const entry = `${name}=${value}`
  for (const pid of allPids()) {
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(entry)) return pid
    } catch {}
  }
  return null
}

/** Busy CPU seconds of the whole machine (all cores), from the first line of /proc/stat. */
function machineBusySeconds(): number {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? ''
  // cpu user nice system idle iowait irq softirq steal ...: everything but idle and iowait is busy.
  const [user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number)
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
    TICKS_PER_SECOND
  )
}

/** CPU seconds per group of processes, for "who was busy during this upload". */
export type CpuSample = Record<string, number>

interface CpuSnapshot {
  readonly groups: CpuSample
  readonly machine: number
}

/**
 * CPU used so far by the bench process, named helper processes, and every other live descendant of the bench
 * (Chromium's processes, grouped as `browser`), plus the whole machine's busy time. Processes that exited since
 * the last sample lose their time; the groups that matter here (servers and the browser) live through a whole
 * measurement.
 */
export function snapshotCpu(named: Readonly<Record<string, number>>): CpuSnapshot {
  const stats = allPids()
    .map(readStat)
    .filter((stat) => stat !== null)
  const children = new Map<number, ProcStat[]>()
  for (const stat of stats) {
    const list = children.get(stat.ppid) ?? []
    list.push(stat)
    children.set(stat.ppid, list)
  }
  const groups: CpuSample = { bench: cpuSecondsOf(process.pid), browser: 0 }
  const namedPids = new Map(Object.entries(named).map(([name, pid]) => [pid, name]))
  for (const name of Object.keys(named)) groups[name] = 0
  const walk = (pid: number, group: string | null) => {
    for (const child of children.get(pid) ?? []) {
      const own = namedPids.get(child.pid) ?? null
      const childGroup = own ?? group ?? (/chrom/i.test(child.comm) ? 'browser' : null)
      if (childGroup !== null) groups[childGroup] = (groups[childGroup] ?? 0) + child.cpuSeconds
      if (childGroup === 'browser') {
        // Which Chromium process burns the CPU: `browser.renderer` (page JS, Blob reads), `browser.utility`
        // (the network service, which streams request bodies), `browser.main`... Not added to the total twice.
        const part = `browser.${chromiumProcessType(child.pid)}`
        groups[part] = (groups[part] ?? 0) + child.cpuSeconds
      }
      walk(child.pid, childGroup)
    }
  }
  walk(process.pid, null)
  return { groups, machine: machineBusySeconds() }
}

/**
 * CPU per group between two snapshots, plus `other`: what the rest of the machine burnt meanwhile (someone
 * else's job on a shared box). A run with a large `other` is noise, not a result.
 */
export function cpuDelta(before: CpuSnapshot, after: CpuSnapshot): CpuSample {
  const delta: CpuSample = {}
  let ours = 0
  for (const [name, seconds] of Object.entries(after.groups)) {
    delta[name] = seconds - (before.groups[name] ?? 0)
    if (!name.includes('.')) ours += delta[name]
  }
  delta.other = Math.max(0, after.machine - before.machine - ours)
  return delta
}
