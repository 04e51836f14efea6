// What the migration bench watches while a run is timed, to tell a slow run's cause from the tool's own speed:
// CPU of each process (the migrator, the local S3 server, rclone, everyone else on the machine), the kernel's
// dirty page cache and disk writes (writeback of files written earlier), I/O pressure, and, for upkit's
// in-process run, garbage collection and event-loop stalls. Linux only (reads /proc); elsewhere the figures
// that need /proc read as zero.
import { readdirSync, readFileSync } from 'node:fs'

/** USER_HZ: the unit of /proc's CPU times, 100 on every Linux this runs on. */
const TICKS_PER_SECOND = 100
const MiB = 1024 * 1024

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

/** Busy CPU seconds of the whole machine (all cores) and seconds spent waiting on I/O. */
function machineCpu(): { busy: number; iowait: number } {
  const fields = (readText('/proc/stat').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number)
  const [user = 0, nice = 0, system = 0, , iowait = 0, irq = 0, softirq = 0, steal = 0] = fields
  return {
    busy: (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND,
    iowait: iowait / TICKS_PER_SECOND,
  }
}

/** A process's own CPU seconds and those of its waited-for children (from /proc/<pid>/stat). */
function processCpu(pid: number | 'self'): { own: number; children: number } {
  const text = readText(`/proc/${pid}/stat`)
  // Fields after the command name, which is in parentheses and may itself contain spaces.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
  const at = (field: number) => Number(fields[field - 3] ?? 0)
  return { own: (at(14) + at(15)) / TICKS_PER_SECOND, children: (at(16) + at(17)) / TICKS_PER_SECOND }
}

/** CPU seconds and command name of every process on the machine (a few dozen to a few hundred reads). */
function allProcesses(): Map<number, { name: string; cpu: number }> {
  const result = new Map<number, { name: string; cpu: number }>()
  let pids: string[] = []
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name))
  } catch {
    return result
  }
  for (const pid of pids) {
    const text = readText(`/proc/${pid}/stat`)
    if (text === '') continue
    const name = text.slice(text.indexOf('(') + 1, text.lastIndexOf(')'))
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    result.set(Number(pid), {
      name,
      cpu: (Number(fields[11] ?? 0) + Number(fields[12] ?? 0)) / TICKS_PER_SECOND,
    })
  }
  return result
}

/** Dirty + under-writeback page cache, in bytes. */
function dirtyBytes(): number {
  const text = readText('/proc/meminfo')
  const kib = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(text)?.[1] ?? 0)
  return (kib('Dirty') + kib('Writeback')) * 1024
}

/** Bytes written to the machine's whole disks (not partitions) so far. */
function diskWrittenBytes(): number {
  let sectors = 0
  for (const line of readText('/proc/diskstats').split('\n')) {
    const parts = line.trim().split(/\s+/)
    const name = parts[2] ?? ''
    // Whole disks only (vda, sda, nvme0n1), so a partition's writes are not counted twice.
    if (!/^(?:[hsv]d[a-z]+|xvd[a-z]+|nvme\d+n\d+)$/.test(name)) continue
    sectors += Number(parts[9] ?? 0)
  }
  return sectors * 512
}

/** Microseconds during which at least one task waited on I/O (PSI); 0 without /proc/pressure. */
function ioPressureMicros(): number {
  return Number(/^some .*total=(\d+)/m.exec(readText('/proc/pressure/io'))?.[1] ?? 0)
}

export interface RunSample {
  /** CPU seconds of the timed tool (upkit's process, or rclone's). */
  toolCpu: number
  /** CPU seconds of the local S3 server process. */
  serverCpu: number
  /** CPU seconds of every other process on the machine (other users' tests, builds, the kernel's flusher). */
  othersCpu: number
  /** The biggest of those others, e.g. `node 1.2 s, postgres 0.3 s`, to name what disturbed a run. */
  topOthers: string
  iowait: number
  /** Seconds during which some task stalled on I/O. */
  ioStall: number
  /** Page cache dirty or under writeback when the run started, and the most seen during it. */
  dirtyAtStart: number
  dirtyMax: number
  /** What the disk wrote during the run: the tool's objects reaching disk, or writeback of older files. */
  diskWritten: number
}

/** What upkit's run measures in its own process. */
export interface InProcessSample {
  gcPause: number
  gcCount: number
  /** The longest event-loop stall (a GC pause, a PGlite query running on the loop, a blocking read). */
  loopDelayMax: number
  dbSeconds: number
}

/**
 * Starts watching; `stop()` returns what happened since. The tool is `toolPid` (upkit's forked run: call
 * `stop()` before it exits), or without it a child this process spawned and has waited for (rclone: its CPU
 * then shows in our children's times, so call `stop()` after its exit).
 */
export function watchRun(options: { serverPid: number; toolPid?: number }): { stop: () => RunSample } {
  const machine = machineCpu()
  const self = processCpu('self')
  const tool = options.toolPid === undefined ? 0 : processCpu(options.toolPid).own
  const server = processCpu(options.serverPid).own
  const disk = diskWrittenBytes()
  const processes = allProcesses()
  const pressure = ioPressureMicros()
  const dirtyAtStart = dirtyBytes()
  let dirtyMax = dirtyAtStart
  // Sampled on a timer: dirty pages rise and fall within a run; the timer costs microseconds every 200 ms.
  const timer = setInterval(() => {
    dirtyMax = Math.max(dirtyMax, dirtyBytes())
  }, 200)
  return {
    stop() {
      clearInterval(timer)
      const machineNow = machineCpu()
      const selfNow = processCpu('self')
      // Our own CPU (probes, IPC) is small and counted with the tool, not as "others".
      const toolCpu =
        selfNow.own -
        self.own +
        selfNow.children -
        self.children +
        (options.toolPid === undefined ? 0 : processCpu(options.toolPid).own - tool)
      const serverCpu = processCpu(options.serverPid).own - server
      const ours = new Set([process.pid, options.serverPid, options.toolPid])
      // Summed by command name: a parallel typecheck or test run is several processes of one name.
      const byName = new Map<string, { cpu: number; count: number }>()
      for (const [pid, { name, cpu }] of allProcesses()) {
        if (ours.has(pid)) continue
        const used = cpu - (processes.get(pid)?.cpu ?? 0)
        if (used <= 0) continue
        const entry = byName.get(name) ?? { cpu: 0, count: 0 }
        byName.set(name, { cpu: entry.cpu + used, count: entry.count + 1 })
      }
      const others = [...byName]
        .map(([name, { cpu, count }]) => ({ name: count > 1 ? `${name} x${count}` : name, cpu }))
        .filter((p) => p.cpu >= 0.1)
        .sort((a, b) => b.cpu - a.cpu)
        .slice(0, 3)
      return {
        toolCpu,
        serverCpu,
        othersCpu: Math.max(0, machineNow.busy - machine.busy - toolCpu - serverCpu),
        topOthers: others.map((p) => `${p.name} ${p.cpu.toFixed(1)} s`).join(', '),
        iowait: machineNow.iowait - machine.iowait,
        ioStall: (ioPressureMicros() - pressure) / 1e6,
        dirtyAtStart,
        dirtyMax: Math.max(dirtyMax, dirtyBytes()),
        diskWritten: diskWrittenBytes() - disk,
      }
    },
  }
}

export const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`

/** One line of what a run's sample says, after its time. */
export function describeSample(
  sample: RunSample,
  seconds: number,
  toolName: string,
  inProcess?: InProcessSample,
): string {
  const share = (s: number) => `${Math.round((s / seconds) * 100)}%`
  const parts = [
    `cpu: ${toolName} ${sample.toolCpu.toFixed(1)} s (${share(sample.toolCpu)}), local S3 ${sample.serverCpu.toFixed(1)} s (${share(sample.serverCpu)}), others ${sample.othersCpu.toFixed(1)} s (${share(sample.othersCpu)}${sample.topOthers ? `: ${sample.topOthers}` : ''})`,
    `disk: dirty ${mib(sample.dirtyAtStart)} at start, max ${mib(sample.dirtyMax)}, ${mib(sample.diskWritten)} written, io stall ${sample.ioStall.toFixed(1)} s`,
  ]
  if (inProcess !== undefined) {
    parts.push(
      `database ${inProcess.dbSeconds.toFixed(2)} s, gc ${inProcess.gcPause.toFixed(2)} s in ${inProcess.gcCount} pauses, longest event-loop stall ${(inProcess.loopDelayMax * 1000).toFixed(0)} ms`,
    )
  }
  return parts.join('; ')
}
