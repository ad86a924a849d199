const { setup, flush, loadPage, text, exists, all, tap, envelope } = require('./helpers/env')
const { notice } = require('./helpers/billing')
const { timeRange } = require('../utils/notices')

let fake
let wxState

beforeEach(() => {
  ;({ fake, wx: wxState } = setup())
})

describe('notice list', () => {
  let notices

  beforeEach(() => {
    notices = []
    for (let id = 25; id >= 1; id--) notices.push(notice(id, { read: id < 23 }))
    notices[1] = notice(24, {
      kind: 'water_cut', title: '11 月 25 日停水', read: false, scope_label: '1栋、2栋',
      starts_at: '2026-11-25T09:00:00+08:00', ends_at: '2026-11-25T17:00:00+08:00',
    })
    fake.on('GET', '/api/v1/notices', (req) => {
      const page = Number(req.query.page)
      const per = Number(req.query.per_page)
      return {
        items: notices.slice((page - 1) * per, page * per),
        total: notices.length,
        page,
        per_page: per,
        unread_count: notices.filter((n) => !n.read).length,
      }
    })
  })

  async function open() {
    const page = loadPage('pages/notices/index')
    page.instance.onLoad({})
    await flush()
    return page
  }

  test('newest first, unread dots and the unread_count badge', async () => {
    const page = await open()
    expect(fake.requests()).toEqual(['GET /api/v1/notices?page=1&per_page=20'])
    const items = all(page, '.notice')
    expect(items).toHaveLength(20)
    expect(text(page, '#unread-count')).toBe('3')
    expect(all(page, '.dot')).toHaveLength(3)
    expect(items[0].dom.getAttribute('class')).toContain('notice-unread')
    expect(items[3].dom.getAttribute('class')).toContain('notice-read')
    const cut = items[1].dom.textContent.replace(/\s+/g, ' ')
    expect(cut).toContain('停水通知')
    expect(cut).toContain('停水时间：2026-11-25 09:00 至 17:00')
    expect(cut).toContain('1栋、2栋 · 2026-11-23 09:00')
  })

  test('全部已读 marks everything read; the badge goes', async () => {
    fake.on('POST', '/api/v1/notices/read-all', () => {
      notices.forEach((n) => (n.read = true))
      return { marked: 3, unread_count: 0 }
    })
    const page = await open()
    await tap(page, '#read-all')
    expect(fake.callsTo('POST', '/api/v1/notices/read-all')).toHaveLength(1)
    expect(exists(page, '#unread-count')).toBe(false)
    expect(all(page, '.dot')).toHaveLength(0)
    expect(wxState.toasts).toContain('已全部标记为已读')
    expect(page.instance.data.unreadCount).toBe(0)
  })

  test('全部已读 failing keeps the dots and says why', async () => {
    fake.on('POST', '/api/v1/notices/read-all', () => envelope(503, 'unavailable', '服务暂时不可用，请稍后再试'))
    const page = await open()
    await tap(page, '#read-all')
    expect(wxState.toasts).toContain('服务暂时不可用，请稍后再试')
    expect(all(page, '.dot')).toHaveLength(3)
  })

  test('opening a notice clears its dot and goes to the detail; coming back refreshes', async () => {
    const page = await open()
    page.instance.onShow()
    await tap(page, all(page, '.notice')[0])
    expect(wxState.navigations).toEqual([['navigateTo', '/pages/notices/detail?id=25']])
    expect(all(page, '.dot')).toHaveLength(2)
    expect(text(page, '#unread-count')).toBe('2')
    notices[0].read = true
    page.instance.onShow()
    await flush()
    expect(fake.callsTo('GET', '/api/v1/notices')).toHaveLength(2)
    expect(text(page, '#unread-count')).toBe('2')
  })

  test('pull-down refresh and 加载更多', async () => {
    const page = await open()
    notices.unshift(notice(26))
    await page.instance.onPullDownRefresh()
    expect(wxState.stopPullDown).toBe(1)
    expect(all(page, '.notice')[0].dom.getAttribute('data-id')).toBe('26')
    expect(text(page, '#unread-count')).toBe('4')
    await tap(page, '#load-more')
    expect(fake.requests()).toContain('GET /api/v1/notices?page=2&per_page=20')
    expect(all(page, '.notice')).toHaveLength(26)
    expect(exists(page, '#no-more')).toBe(true)
  })

  test('no notices; a failure offers a retry', async () => {
    fake.offline = true
    const page = await open()
    expect(text(page, '#error')).toContain('网络不给力')
    fake.offline = false
    notices = []
    await tap(page, '#retry')
    expect(text(page, '#empty')).toBe('暂无通知')
    expect(exists(page, '#unread-count')).toBe(false)
  })
})

describe('notice detail', () => {
  async function open(id) {
    const page = loadPage('pages/notices/detail')
    page.instance.onLoad({ id: String(id) })
    await flush()
    return page
  }

  test('the GET marks it read: one request, kind label, time range, content line by line', async () => {
    fake.on('GET', '/api/v1/notices/:id', (req) => notice(Number(req.params.id), {
      kind: 'power_cut', title: '配电房检修停电', read: true, scope_label: '3栋',
      starts_at: '2026-11-26T22:00:00+08:00', ends_at: '2026-11-27T06:00:00+08:00',
      content: '各位业主：\n因配电房检修，将停电。\n\n请提前做好准备。',
    }))
    const page = await open(9)
    expect(fake.requests()).toEqual(['GET /api/v1/notices/9'])
    expect(text(page, '#kind')).toBe('停电通知')
    expect(text(page, '#title')).toBe('配电房检修停电')
    expect(text(page, '#meta')).toBe('3栋 · 2026-11-23 09:00')
    expect(text(page, '#range')).toBe('停电时间：2026-11-26 22:00 至 2026-11-27 06:00')
    const paras = all(page, '.para').map((n) => n.dom.textContent)
    expect(paras).toEqual(['各位业主：', '因配电房检修，将停电。', '', '请提前做好准备。'])
    expect(all(page, '.para-blank')).toHaveLength(1)
  })

  test('a general notice has no time range', async () => {
    fake.on('GET', '/api/v1/notices/:id', () => notice(3))
    const page = await open(3)
    expect(text(page, '#kind')).toBe('通知')
    expect(exists(page, '#range')).toBe(false)
  })

  test('a notice that is not mine shows the message and a way to the list', async () => {
    fake.on('GET', '/api/v1/notices/:id', () => envelope(404, 'not_found', '未找到该通知'))
    const page = await open(77)
    expect(text(page, '#error')).toContain('未找到该通知')
    await tap(page, '#all')
    expect(wxState.navigations).toEqual([['redirectTo', '/pages/notices/index']])
  })

  test('time ranges in words', () => {
    expect(timeRange('2026-11-25T09:00:00+08:00', '2026-11-25T17:00:00+08:00')).toBe('2026-11-25 09:00 至 17:00')
    expect(timeRange('2026-11-25T01:00:00Z', null)).toBe('2026-11-25 09:00 起')
    expect(timeRange(null, '2026-11-25T17:00:00+08:00')).toBe('至 2026-11-25 17:00')
    expect(timeRange(null, null)).toBe('')
  })
})
