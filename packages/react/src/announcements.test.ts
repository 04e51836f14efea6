import { describe, expect, it } from 'vitest'
import { type AnnouncedState, progressAnnouncements } from './announcements'

describe('progressAnnouncements', () => {
  it('announces quarter steps and completion once each, not every tick', () => {
    const file = (percent: number, status = 'uploading') => [{ id: 'a', name: 'a.pdf', percent, status }]
    let state = new Map<string, AnnouncedState>()
    const say = (percent: number, status?: string) => {
      const { messages, next } = progressAnnouncements(state, file(percent, status))
      state = next
      return messages
    }
    expect(say(3)).toEqual([])
    expect(say(26)).toEqual(['a.pdf: 25% uploaded.'])
    expect(say(40)).toEqual([])
    expect(say(55, 'retrying')).toEqual(['a.pdf: connection lost, retrying.', 'a.pdf: 50% uploaded.'])
    expect(say(55, 'retrying')).toEqual([])
    expect(say(80)).toEqual(['a.pdf: 75% uploaded.'])
    expect(say(100)).toEqual([])
    expect(say(100, 'done')).toEqual(['a.pdf uploaded.'])
    expect(say(100, 'done')).toEqual([])
    // A retried file that restarts lower is not announced again for steps it already passed.
    expect(say(10)).toEqual([])
  })

  it('announces a pause and the resume once each', () => {
    let state = new Map<string, AnnouncedState>()
    const say = (status: string) => {
      const { messages, next } = progressAnnouncements(state, [
        { id: 'b', name: 'b.mov', percent: 10, status },
      ])
      state = next
      return messages
    }
    expect(say('uploading')).toEqual([])
    expect(say('pausing')).toEqual([])
    expect(say('paused')).toEqual(['b.mov: paused.'])
    expect(say('paused')).toEqual([])
    expect(say('uploading')).toEqual(['b.mov: resumed.'])
    expect(say('uploading')).toEqual([])
  })
})
